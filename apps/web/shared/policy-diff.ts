/**
 * Pure: a readable diff of two service policies, one line per changed leaf. Splits read by version
 * (`split v2: 10% → 25%`), everything else by dotted path (`retries.attempts: 2 → 3`).
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isSplit(v: unknown): v is { version: string; weight: number }[] {
  return (
    Array.isArray(v) && v.length > 0 && v.every((e) => e && typeof e === "object" && "version" in e && "weight" in e && Object.keys(e).length === 2)
  );
}

function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (value === undefined) return;
  if (isSplit(value)) {
    for (const e of value) out.set(`${path} ${e.version}`, `${e.weight}%`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    for (const [i, v] of value.entries()) flatten(v, `${path}.${i}`, out);
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, Json>)) flatten(v, path ? `${path}.${k}` : k, out);
    return;
  }
  out.set(path, JSON.stringify(value));
}

export function policyDiff(before: unknown, after: unknown): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before ?? {}, "", a);
  flatten(after ?? {}, "", b);
  const lines: string[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(key);
    const y = b.get(key);
    if (x === y) continue;
    if (x === undefined) lines.push(`+ ${key}: ${y}`);
    else if (y === undefined) lines.push(`- ${key}: ${x}`);
    else lines.push(`~ ${key}: ${x} → ${y}`);
  }
  return lines;
}

/** `payments split v1 90% / v2 10%` style one-liner for a split. */
export function splitSummary(split: { version: string; weight: number }[] | undefined): string {
  if (!split || split.length === 0) return "no split (all versions)";
  return split.map((e) => `${e.version} ${e.weight}%`).join(" / ");
}

/** `50% to v2` for a mirror, `off` without one. */
export function mirrorSummary(mirror: { version: string; percent: number } | undefined): string {
  return mirror ? `${mirror.percent}% to ${mirror.version}` : "off";
}

/** One authorization rule in one line: `spiffe://…/service/web GET,POST /charge` (methods / paths only when set). */
export function authzRuleText(r: { principals: string[]; methods?: string[]; paths?: string[] }): string {
  const methods = r.methods && r.methods.length > 0 ? ` ${r.methods.join(",")}` : "";
  const paths = r.paths && r.paths.length > 0 ? ` ${r.paths.join(",")}` : "";
  return `${r.principals.join(", ")}${methods}${paths}`;
}

type SecurityDocLike = { mtls?: string; authorization?: { principals: string[]; methods?: string[]; paths?: string[] }[] };

/**
 * A readable diff of a service's security settings (the `mtls` / `authz` revisions): `~ mtls: DISABLE → STRICT`,
 * `+ allow spiffe://…/service/web GET /charge`, `- allow …`, and a line when the service goes from "every caller
 * allowed" (no rule) to an allow-list or back.
 */
export function securityDiff(before: SecurityDocLike, after: SecurityDocLike): string[] {
  const lines: string[] = [];
  if ((before.mtls !== undefined || after.mtls !== undefined) && (before.mtls ?? "DISABLE") !== (after.mtls ?? "DISABLE"))
    lines.push(`~ mtls: ${before.mtls ?? "DISABLE"} → ${after.mtls ?? "DISABLE"}`);
  if (before.authorization !== undefined || after.authorization !== undefined) {
    const a = (before.authorization ?? []).map(authzRuleText);
    const b = (after.authorization ?? []).map(authzRuleText);
    const remaining = [...b];
    for (const x of a) {
      const i = remaining.indexOf(x);
      if (i >= 0) remaining.splice(i, 1);
      else lines.push(`- allow ${x}`);
    }
    for (const y of remaining) lines.push(`+ allow ${y}`);
    if (a.length === 0 && b.length > 0) lines.push("~ authorization: every caller allowed → only the listed callers");
    if (a.length > 0 && b.length === 0) lines.push("~ authorization: only the listed callers → every caller allowed");
  }
  return lines;
}

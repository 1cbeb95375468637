/**
 * Pure: a readable diff of two service policies, one line per changed leaf. Splits read by version
 * (`split v2: 10% → 25%`), everything else by dotted path (`retries.attempts: 2 → 3`).
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isSplit(v: unknown): v is { version: string; weight: number }[] {
  return Array.isArray(v) && v.length > 0 && v.every((e) => e && typeof e === "object" && "version" in e && "weight" in e && Object.keys(e).length === 2);
}

function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (value === undefined) return;
  if (isSplit(value)) {
    for (const e of value) out.set(`${path} ${e.version}`, `${e.weight}%`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    value.forEach((v, i) => flatten(v, `${path}.${i}`, out));
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

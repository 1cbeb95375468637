/**
 * Pure: turns the protocol's validation into inline form errors. A form's patch (`{retries: …}`) is checked with the
 * SAME schema the console's change road and the agents apply (`servicePolicySchema`), and each zod issue is keyed by
 * its path (`retries.attempts`, `routes.0.match.pathRegex`), which is the key a form field shows its error under. The
 * server's answer (`retries.attempts: Too big…; …`) maps the same way.
 */
import { policyVersionIssues, type ServicePolicy, servicePolicySchema } from "@trellis/protocol";

/** Field path from the policy's root (dot-joined: `retries.attempts`, `routes.0.match.pathRegex`; "" = the form as a whole) → the first message for it. */
export type FieldErrors = Record<string, string>;

export type PolicyKey = keyof ServicePolicy;

/** What a form sends: its keys with their new value, `undefined` = remove (back to the default). */
export type PolicyPatch = Partial<Record<PolicyKey, unknown>>;

export interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

/** Issues keyed by their dotted path; the first message per field wins. */
export function fieldErrors(issues: readonly Issue[]): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.map(String).join(".");
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}

export type PatchCheck = { ok: true; policy: ServicePolicy } | { ok: false; errors: FieldErrors };

/**
 * Validates a form's patch as the console's change road does: the protocol schema, then the versions it names
 * (`versions` null skips that). Removed keys (`undefined`) are left out, as the road removes them.
 */
export function checkPatch(patch: PolicyPatch, versions: readonly string[] | null): PatchCheck {
  const present: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) present[k] = v;
  const parsed = servicePolicySchema.safeParse(present);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error.issues) };
  if (versions !== null) {
    const issues = policyVersionIssues(parsed.data, versions, "this service");
    if (issues.length > 0) return { ok: false, errors: fieldErrors(issues) };
  }
  return { ok: true, policy: parsed.data };
}

/**
 * The server's message (`formatIssues`: `path: message; path: message`) as field errors. A piece that names no path
 * under one of the form's `keys` lands under "" (shown for the form as a whole), whole.
 */
export function serverFieldErrors(message: string, keys: readonly string[]): FieldErrors {
  const out: FieldErrors = {};
  for (const piece of message.split("; ")) {
    const m = /^([A-Za-z0-9_.]+): (.*)$/s.exec(piece);
    const ours = m !== null && keys.some((k) => m[1] === k || m[1].startsWith(`${k}.`));
    const key = ours ? m[1] : "";
    const text = ours ? m[2] : piece;
    if (!(key in out)) out[key] = text;
    else if (key === "") out[key] = `${out[key]}; ${text}`;
  }
  return out;
}

/** Errors under `prefix` (e.g. one route's: `routes.2`), re-keyed relative to it. */
export function errorsUnder(errors: FieldErrors, prefix: string): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, v] of Object.entries(errors)) {
    if (k === prefix) out[""] = v;
    else if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
  }
  return out;
}

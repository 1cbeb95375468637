/**
 * Canonical JSON of a policy: keys sorted at every level, so two snapshots that say the same thing compare equal
 * whatever order their fields came in. Used to keep runtime state (retry budget, breaker counts) across snapshots for
 * policies that did not change.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}

/**
 * Pure: what every policy form is — the policy keys it owns, the form model (text fields as typed) read from the
 * policy, and the patch built back from the model. The same definition drives the form view and the YAML view.
 */
import type { ServicePolicy } from "@trellis/protocol";
import type { PolicyKey, PolicyPatch } from "./issues.ts";

export interface PolicyFormDef<M> {
  /** The policy fields this form edits (and nothing else). */
  keys: readonly PolicyKey[];
  fromPolicy(policy: ServicePolicy): M;
  /** Unvalidated: a number field holding "abc" becomes NaN, and the schema names that field. */
  toPatch(model: M): PolicyPatch;
}

/** The patch as the traffic.update procedure takes it: a removed key is sent as null. */
export function patchForServer(keys: readonly PolicyKey[], patch: PolicyPatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = patch[k] === undefined ? null : patch[k];
  return out;
}

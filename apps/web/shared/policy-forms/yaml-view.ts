/**
 * Pure: the YAML view of a policy form — the same patch the form builds, as YAML (the `yaml` package, as the CLI's
 * config files), and back. Keys other than the form's own are refused: each view edits its own part of the policy.
 */
import { parse, stringify } from "yaml";
import type { FieldErrors, PolicyKey, PolicyPatch } from "./issues.ts";

/** The patch's set keys as a YAML document ("{}" when all are unset). */
export function yamlOf(patch: PolicyPatch): string {
  const present: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) present[k] = v;
  return Object.keys(present).length === 0 ? "{}\n" : stringify(present);
}

export type YamlRead = { ok: true; patch: PolicyPatch } | { ok: false; errors: FieldErrors };

/** A key left out of the YAML is removed (back to its default), as in the form. */
export function patchFromYaml(text: string, keys: readonly PolicyKey[]): YamlRead {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return { ok: false, errors: { "": `YAML: ${(e as Error).message.split("\n")[0]}` } };
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) return { ok: false, errors: { "": `YAML: expected a mapping with ${keys.join(", ")}` } };
  const mapping = doc as Record<string, unknown>;
  const errors: FieldErrors = {};
  for (const k of Object.keys(mapping))
    if (!(keys as readonly string[]).includes(k)) errors[k] = `not edited here (this view edits ${keys.join(", ")})`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const patch: PolicyPatch = {};
  for (const k of keys) {
    const v = mapping[k];
    patch[k] = v === null ? undefined : v;
  }
  return { ok: true, patch };
}

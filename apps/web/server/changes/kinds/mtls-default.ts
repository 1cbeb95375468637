/**
 * Part `mtls-default`: the mesh-wide mTLS mode ({defaultMode}: PERMISSIVE or STRICT) of every service without its own
 * override (part `mtls`). Mesh-wide (revisions without a service). DISABLE is not a mesh default: a service is taken
 * out of mTLS by its own override only.
 */
import { invalidConfig } from "../../errors.ts";
import type { Repositories } from "../../repositories/index.ts";
import { DEFAULT_MESH_MTLS, type MeshMtlsMode } from "../../repositories/security-policies.ts";
import type { ChangeKind, Fields } from "../kind.ts";

export interface MtlsDefaultDoc {
  defaultMode: MeshMtlsMode;
}

const MODES: readonly MeshMtlsMode[] = ["PERMISSIVE", "STRICT"];

export function mtlsDefaultKind(repos: Repositories): ChangeKind<MtlsDefaultDoc> {
  return {
    part: "mtls-default",
    read: async () => ({ defaultMode: await repos.security.meshDefault() }),
    async validate(candidate) {
      const mode = (candidate as Partial<MtlsDefaultDoc> | null)?.defaultMode;
      if (!MODES.includes(mode as MeshMtlsMode)) throw invalidConfig(`defaultMode: expected one of ${MODES.join(", ")}`);
      return { defaultMode: mode as MeshMtlsMode };
    },
    diff: (before, after) => (before.defaultMode === after.defaultMode ? [] : [`~ mesh mTLS default: ${before.defaultMode} → ${after.defaultMode}`]),
    fields: (doc) => ({ defaultMode: doc.defaultMode }),
    fromFields: (fields: Fields) => ({ defaultMode: fields.defaultMode ?? DEFAULT_MESH_MTLS }),
    write: (_scope, after, revision) => repos.security.commitMeshDefault(after.defaultMode, revision),
  };
}

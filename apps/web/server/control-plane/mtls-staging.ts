/**
 * mTLS staging, pure: a STRICT <-> DISABLE change goes through PERMISSIVE first. Callers switch while the destination
 * still accepts both, then the destination enforces, so no call is refused mid-change. The stage ends when every
 * connected agent acked the staged version (or after a timeout the publisher keeps); the next round then pushes the
 * desired mode.
 */
import type { MtlsMode } from "@trellis/protocol";

export interface MtlsPlan {
  /** The mode each service gets in this round's snapshots. */
  effective: Map<string, MtlsMode>;
  /** Some service is held in PERMISSIVE on its way between STRICT and DISABLE. */
  staging: boolean;
}

/**
 * The modes to push this round. `services`: the registered services (`meshDefault` unless overridden); `desired`: the
 * per-service overrides; `pushed`: the effective modes of the previous round.
 */
export function planMtls(
  services: Iterable<string>,
  desired: ReadonlyMap<string, MtlsMode>,
  pushed: ReadonlyMap<string, MtlsMode>,
  meshDefault: MtlsMode = "PERMISSIVE",
): MtlsPlan {
  const effective = new Map<string, MtlsMode>();
  let staging = false;
  for (const name of services) {
    const want = desired.get(name) ?? meshDefault;
    const was = pushed.get(name);
    if (was !== undefined && was !== want && was !== "PERMISSIVE" && want !== "PERMISSIVE") {
      effective.set(name, "PERMISSIVE");
      staging = true;
    } else effective.set(name, want);
  }
  for (const [name, mode] of desired) if (!effective.has(name)) effective.set(name, mode);
  return { effective, staging };
}

/** A stage at `stagedVersion` is complete once every connected agent acked it (or something newer). */
export function stageComplete(stagedVersion: number, ackedVersions: Iterable<number>): boolean {
  for (const v of ackedVersions) if (v < stagedVersion) return false;
  return true;
}

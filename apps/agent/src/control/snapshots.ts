/**
 * Handling of `snapshot` frames: validate → apply → persist → ack, or nack and keep the config already applied.
 * Config is a "latest value": an equal version is acknowledged without re-applying, an older one is refused.
 */
import type { AckFrame, MeshSnapshot, NackFrame, SnapshotFrame } from "@trellis/protocol";
import type { ConfigState } from "../config/state.ts";
import type { Logger } from "../log.ts";

export type SnapshotReply = AckFrame | NackFrame;

export function nack(version: number, nonce: string, error: string): NackFrame {
  return { type: "nack", version, nonce, error: error.length > 4096 ? `${error.slice(0, 4093)}...` : error };
}

export function createSnapshotHandler(
  config: ConfigState,
  persist: (s: MeshSnapshot) => Promise<void>,
  log: Logger,
): (frame: SnapshotFrame) => Promise<SnapshotReply> {
  return async (frame) => {
    const checked = config.check(frame.snapshot, frame.version);
    if (!checked.ok) {
      log.warn("snapshot rejected", { configVersion: frame.version, error: checked.error, kept: config.version });
      return nack(frame.version, frame.nonce, checked.error);
    }
    const snap = checked.snapshot;
    if (config.snapshot !== null && snap.version === config.version) {
      return { type: "ack", version: frame.version, nonce: frame.nonce };
    }
    try {
      config.apply(snap);
    } catch (err) {
      const error = `snapshot could not be applied: ${(err as Error).message}`;
      log.error("snapshot rejected", { configVersion: frame.version, error, kept: config.version });
      return nack(frame.version, frame.nonce, error);
    }
    log.info("snapshot applied", { configVersion: snap.version, services: snap.services.length });
    try {
      await persist(snap);
    } catch (err) {
      // Applied in memory; only the restart fallback is stale. Say so, still ack what runs.
      log.error("could not persist snapshot", { configVersion: snap.version, error: (err as Error).message });
    }
    return { type: "ack", version: frame.version, nonce: frame.nonce };
  };
}

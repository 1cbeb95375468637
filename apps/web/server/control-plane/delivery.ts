/**
 * Per-agent delivery of config versions, as a pure state machine (no I/O, no clock: callers pass `now`).
 *
 * At most one un-acked snapshot is in flight per agent. A newer version offered meanwhile waits (`pending`) and the
 * newest is sent when the ack / nack arrives, or once the in-flight one is older than the ack timeout. Only an ack or
 * nack that names the in-flight version and nonce counts; anything else is stale and ignored.
 *
 * Sync state: SYNCED (acked the newest it was sent), STALE (sent, not acked, or a newer one pending), NACKED (refused
 * the last one it was sent), UNKNOWN (nothing sent on this connection yet).
 */

import type { VersionSync } from "../../shared/version-sync.ts";
import type { SyncState, SyncStateRow } from "../repositories/index.ts";

export interface InFlight {
  readonly version: number;
  readonly nonce: string;
  readonly sentAt: number;
}

export interface Delivery {
  readonly inFlight: InFlight | null;
  /** A newer version waits for the in-flight one. */
  readonly pending: boolean;
  readonly sentVersion: number;
  readonly ackedVersion: number;
  readonly syncState: SyncState;
  /** The last NACK's reason, until the agent acks a newer version. */
  readonly lastError: string | null;
  /** Version the last NACK was for (with lastError). */
  readonly nackedVersion: number;
  /** Acked since the sync state was last written to the database. */
  readonly ackedSinceWrite: boolean;
}

/** An agent that says it holds `ackedVersion` (its hello's config version). */
export function newDelivery(ackedVersion = 0): Delivery {
  return {
    inFlight: null,
    pending: false,
    sentVersion: 0,
    ackedVersion,
    syncState: "UNKNOWN",
    lastError: null,
    nackedVersion: 0,
    ackedSinceWrite: false,
  };
}

/**
 * A newer version is ready for this agent. `send` when nothing blocks it (then the caller sends and calls `sent`);
 * otherwise the state to keep: the newer version waits.
 */
export function offer(d: Delivery, now: number, ackTimeoutMs: number): { send: true } | { send: false; next: Delivery } {
  if (d.inFlight && now - d.inFlight.sentAt < ackTimeoutMs) {
    return { send: false, next: { ...d, pending: true, syncState: d.syncState === "SYNCED" ? "STALE" : d.syncState } };
  }
  return { send: true };
}

/** `version` went out with `nonce` at `now`. */
export function sent(d: Delivery, version: number, nonce: string, now: number): Delivery {
  return { ...d, inFlight: { version, nonce, sentAt: now }, pending: false, sentVersion: version, syncState: "STALE" };
}

function matches(d: Delivery, frame: { version: number; nonce: string }): boolean {
  return d.inFlight !== null && d.inFlight.nonce === frame.nonce && d.inFlight.version === frame.version;
}

/** The agent applied `frame.version`. Null when the ack is stale (not the in-flight snapshot): nothing changes. */
export function acked(d: Delivery, frame: { version: number; nonce: string }): Delivery | null {
  if (!matches(d, frame)) return null;
  return {
    ...d,
    inFlight: null,
    ackedVersion: frame.version,
    lastError: null,
    syncState: d.pending ? "STALE" : "SYNCED",
    ackedSinceWrite: true,
  };
}

/** The agent refused `frame.version` and keeps its last good one. Null when the nack is stale. */
export function nacked(d: Delivery, frame: { version: number; nonce: string; error: string }): Delivery | null {
  if (!matches(d, frame)) return null;
  return { ...d, inFlight: null, syncState: "NACKED", lastError: frame.error, nackedVersion: frame.version };
}

/** A newer version waits behind an in-flight snapshot that timed out: it may be sent now. */
export function overdue(d: Delivery, now: number, ackTimeoutMs: number): boolean {
  return d.pending && d.inFlight !== null && now - d.inFlight.sentAt >= ackTimeoutMs;
}

/** The row the database gets for this agent, and the state once it is written. */
export function syncRow(instanceId: string, d: Delivery): { row: SyncStateRow; next: Delivery } {
  const row: SyncStateRow = {
    instanceId,
    sentVersion: d.sentVersion,
    ackedVersion: d.ackedVersion,
    syncState: d.syncState,
    // A NACK's reason stays visible until the agent acks a newer version (acked clears lastError).
    syncError: d.lastError ? `v${d.nackedVersion}: ${d.lastError}`.slice(0, 4096) : null,
    acked: d.ackedSinceWrite,
  };
  return { row, next: d.ackedSinceWrite ? { ...d, ackedSinceWrite: false } : d };
}

/** How far the given agents got with `version`: acked it (or newer), NACKed it, or not yet. */
export function syncOf(
  version: number,
  agents: Iterable<{ instanceId: string; delivery: Pick<Delivery, "ackedVersion" | "sentVersion" | "syncState" | "lastError"> }>,
): VersionSync {
  let total = 0;
  let applied = 0;
  let nackedCount = 0;
  const errors: string[] = [];
  for (const { instanceId, delivery: d } of agents) {
    total++;
    if (d.ackedVersion >= version) applied++;
    else if (d.syncState === "NACKED" && d.sentVersion >= version) {
      nackedCount++;
      if (d.lastError && errors.length < 5) errors.push(`${instanceId}: ${d.lastError}`);
    }
  }
  return { version, total, applied, nacked: nackedCount, pending: total - applied - nackedCount, errors };
}

export type { VersionSync };

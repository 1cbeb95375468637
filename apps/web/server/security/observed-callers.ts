/**
 * Who called a service in the last N minutes, for "allow the callers seen": the live 1-second windows (with how
 * many calls ran over mTLS) for the last 15 minutes, and the per-minute rollups (no mTLS count) before that.
 */
import type { ObservedCaller } from "../../shared/authz-from-traffic.ts";
import type { LiveView } from "../live-view.ts";
import type { RollupRepository } from "../repositories/rollups.ts";

/** What the live store keeps (telemetry-store.ts's default retention). */
export const LIVE_WINDOW_MINUTES = 15;

export async function observedCallers(
  live: LiveView,
  rollups: RollupRepository,
  service: string,
  minutes: number,
  nowMs = Date.now(),
): Promise<ObservedCaller[]> {
  const liveMinutes = Math.min(minutes, LIVE_WINDOW_MINUTES);
  const out: ObservedCaller[] = live.callers(service, liveMinutes * 60, nowMs);
  if (minutes > LIVE_WINDOW_MINUTES) {
    const rows = await rollups.range({ fromMs: nowMs - minutes * 60_000, toMs: nowMs - LIVE_WINDOW_MINUTES * 60_000, destination: service });
    for (const r of rows) if (r.requests > 0) out.push({ source: r.source, sourceVersion: r.sourceVersion, requests: r.requests, mtls: null });
  }
  return out;
}

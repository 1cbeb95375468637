/**
 * Pure aggregation of telemetry windows: 1-second buckets of per-edge stats (by status class) -> per
 * service@version pair totals over a range of seconds -> rps / percentiles / error % / mTLS %.
 * Histograms merge exactly (element-wise), so percentiles over any range are exact to the bucket bounds.
 */
import { type EdgeStats, emptyHistogram, mergeInto, quantile } from "@trellis/protocol";
import type { LiveStats } from "./live-types.ts";

/** One edge's stats for one bucket of the store: the protocol's edge record. */
export type EdgeRecord = EdgeStats;

export interface SecondBucket {
  /** Unix seconds: the bucket's first second. */
  sec: number;
  /** How many seconds the bucket spans (1, or 10 for older telemetry); 1 when absent. */
  seconds?: number;
  edges: Iterable<EdgeRecord>;
}

/** Totals of a service@version pair over a range, all status classes together. */
export type PairStats = Omit<EdgeRecord, "statusClass"> & {
  /** Requests per status class. */
  byStatus: Record<string, number>;
};

/**
 * Tunnels (WebSockets): the opened/closed counters and durations add up; `connectionsOpen` is a gauge, so a merge
 * keeps the largest value reported (at least that many were open; several instances in one second undercount).
 */
export function addConnections(into: Omit<EdgeRecord, "statusClass">, e: Omit<EdgeRecord, "statusClass">): void {
  into.connectionsOpened = (into.connectionsOpened ?? 0) + (e.connectionsOpened ?? 0);
  into.connectionsClosed = (into.connectionsClosed ?? 0) + (e.connectionsClosed ?? 0);
  into.connectionMs = (into.connectionMs ?? 0) + (e.connectionMs ?? 0);
  into.connectionsOpen = Math.max(into.connectionsOpen ?? 0, e.connectionsOpen ?? 0);
}

/** gRPC calls by status code add up (`grpcStatus`, absent until a gRPC call was seen). */
export function addGrpcStatus(into: Omit<EdgeRecord, "statusClass">, e: Omit<EdgeRecord, "statusClass">): void {
  if (e.grpcStatus === undefined) return;
  into.grpcStatus ??= {};
  const out = into.grpcStatus;
  for (const [code, n] of Object.entries(e.grpcStatus)) out[code] = (out[code] ?? 0) + n;
}

export function pairKey(source: string, sourceVersion: string, destination: string, destinationVersion: string): string {
  return `${source}@${sourceVersion}->${destination}@${destinationVersion}`;
}

export function emptyPair(source: string, sourceVersion: string, destination: string, destinationVersion: string): PairStats {
  return {
    source,
    sourceVersion,
    destination,
    destinationVersion,
    requests: 0,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
    mtls: 0,
    latency: emptyHistogram(),
    byStatus: {},
  };
}

/** Mirrored copies (traffic mirroring) add up; the field stays absent while there are none. */
export function addMirrored(into: { mirrored?: number }, e: { mirrored?: number }): void {
  if (e.mirrored) into.mirrored = (into.mirrored ?? 0) + e.mirrored;
}

function addInto(into: PairStats, e: EdgeRecord): void {
  into.requests += e.requests;
  addMirrored(into, e);
  into.errors += e.errors;
  into.bytesIn += e.bytesIn;
  into.bytesOut += e.bytesOut;
  into.mtls += e.mtls;
  if (e.connectionsOpened !== undefined || e.connectionsOpen !== undefined) addConnections(into, e);
  addGrpcStatus(into, e);
  mergeInto(into.latency, e.latency);
  into.byStatus[e.statusClass] = (into.byStatus[e.statusClass] ?? 0) + e.requests;
}

/** Sums every bucket's edges per service@version pair (over status classes). Sorted by pair key. */
export function aggregatePairs(buckets: Iterable<SecondBucket>): PairStats[] {
  const pairs = new Map<string, PairStats>();
  for (const b of buckets) {
    for (const e of b.edges) {
      const key = pairKey(e.source, e.sourceVersion, e.destination, e.destinationVersion);
      let p = pairs.get(key);
      if (!p) {
        p = emptyPair(e.source, e.sourceVersion, e.destination, e.destinationVersion);
        pairs.set(key, p);
      }
      addInto(p, e);
    }
  }
  return [...pairs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

/** Merges several pairs (e.g. every inbound pair of a service) into one total. */
export function sumPairs(list: Iterable<PairStats>): PairStats {
  const out = emptyPair("*", "*", "*", "*");
  for (const p of list) {
    out.requests += p.requests;
    out.errors += p.errors;
    out.bytesIn += p.bytesIn;
    out.bytesOut += p.bytesOut;
    out.mtls += p.mtls;
    addMirrored(out, p);
    if (p.connectionsOpened !== undefined || p.connectionsOpen !== undefined) addConnections(out, p);
    addGrpcStatus(out, p);
    mergeInto(out.latency, p.latency);
    for (const [k, v] of Object.entries(p.byStatus)) out.byStatus[k] = (out.byStatus[k] ?? 0) + v;
  }
  return out;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Rates and percentiles of a total over `windowSeconds`. Rounded to 2 decimals (stable diffs, small frames). */
export function statsOf(p: Pick<PairStats, "requests" | "errors" | "mtls" | "latency">, windowSeconds: number): LiveStats {
  const requests = p.requests;
  return {
    rps: windowSeconds > 0 ? round(requests / windowSeconds) : 0,
    p50Ms: round(quantile(p.latency, 0.5)),
    p99Ms: round(quantile(p.latency, 0.99)),
    errorRate: requests > 0 ? round(p.errors / requests, 4) : 0,
    errorPct: requests > 0 ? round((p.errors / requests) * 100) : 0,
    mtlsShare: requests > 0 ? round(p.mtls / requests, 4) : 0,
    mtlsPct: requests > 0 ? round((p.mtls / requests) * 100) : 0,
    requests,
    errors: p.errors,
  };
}

/**
 * The seconds a rate is computed over at `nowMs`: the last `windowSeconds` seconds whose telemetry is complete.
 * An agent's 1-second window that starts anywhere inside second B reaches the console by B + 2 at the latest, so
 * second B is only complete from B + 2 on: the window ends two seconds before the current one (data shows up at
 * most ~2 s after the request, and rates never dip because the newest second is still arriving).
 */
export const SETTLE_SECONDS = 2;

export function windowRange(nowMs: number, windowSeconds: number): { fromSec: number; toSec: number } {
  const toSec = Math.floor(nowMs / 1000) - SETTLE_SECONDS;
  return { fromSec: toSec - windowSeconds + 1, toSec };
}

/**
 * Read side of the live telemetry: the registry (services, versions, instance counts — pushed by the agent hub after
 * every round) and the TelemetryStore, turned into the live graph and per-service stats by the pure view models.
 */
import { aggregatePairs, pairKey, statsOf, sumPairs, windowRange } from "../shared/edge-stats.ts";
import { buildLiveGraph, type ServiceInfo } from "../shared/graph-model.ts";
import type { LiveGraph, LiveStats } from "../shared/live-types.ts";
import { inboundRpsTrends, type TrendRange, trendBins } from "../shared/rps-trend.ts";
import type { TelemetryStore } from "./telemetry-store.ts";

export const DEFAULT_WINDOW_SECONDS = 10;

export interface EdgeSummary extends LiveStats {
  source: string;
  sourceVersion: string;
  destination: string;
  destinationVersion: string;
  byStatus: Record<string, number>;
  /** gRPC calls by gRPC status code (absent: no gRPC call in the window). */
  grpcStatus?: Record<string, number>;
}

export interface SeriesPoint {
  /** Second start, unix ms. */
  t: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errorPct: number;
}

export interface ServiceStats {
  windowSeconds: number;
  inbound: LiveStats;
  outbound: LiveStats;
  edgesIn: EdgeSummary[];
  edgesOut: EdgeSummary[];
  /** Inbound traffic per second, oldest first (every second present, zeros where idle). */
  series: SeriesPoint[];
}

/** A caller that reached a service in plaintext in the window (what STRICT would refuse). */
export interface PlaintextCaller {
  source: string;
  sourceVersion: string;
  /** Plaintext calls in the window. */
  requests: number;
}

export class LiveView {
  private registry: ServiceInfo[] = [];
  private cached: { sec: number; storeVersion: number; graph: LiveGraph } | null = null;

  constructor(private readonly store: TelemetryStore) {}

  setRegistry(services: ServiceInfo[]): void {
    this.registry = services;
    this.cached = null;
  }

  /** The live graph over the last `windowSeconds` complete seconds (memoized per second and store version). */
  graph(windowSeconds = DEFAULT_WINDOW_SECONDS, nowMs = Date.now()): LiveGraph {
    const sec = Math.floor(nowMs / 1000);
    const storeVersion = this.store.version;
    const c = this.cached;
    if (windowSeconds === DEFAULT_WINDOW_SECONDS && c && c.sec === sec && c.storeVersion === storeVersion) return c.graph;
    const { fromSec, toSec } = windowRange(nowMs, windowSeconds);
    const pairs = aggregatePairs(this.store.range(fromSec, toSec));
    const graph = buildLiveGraph({ ts: nowMs, windowSeconds, services: this.registry, pairs });
    if (windowSeconds === DEFAULT_WINDOW_SECONDS) this.cached = { sec, storeVersion, graph };
    return graph;
  }

  /**
   * Who still reaches `name` in plaintext: edges into it whose calls did not all run over mTLS in the last
   * `windowSeconds` (ingress included: a caller from outside the mesh would be refused by STRICT too).
   */
  plaintextCallers(name: string, windowSeconds = 60, nowMs = Date.now()): PlaintextCaller[] {
    const { fromSec, toSec } = windowRange(nowMs, windowSeconds);
    return aggregatePairs(this.store.range(fromSec, toSec))
      .filter((p) => p.destination === name && p.requests > p.mtls)
      .map((p) => ({ source: p.source, sourceVersion: p.sourceVersion, requests: p.requests - p.mtls }));
  }

  /** Every caller of `name` in the last `windowSeconds` (at most the store's retention), with its mTLS calls. */
  callers(name: string, windowSeconds: number, nowMs = Date.now()): { source: string; sourceVersion: string; requests: number; mtls: number }[] {
    const { fromSec, toSec } = windowRange(nowMs, windowSeconds);
    return aggregatePairs(this.store.range(fromSec, toSec))
      .filter((p) => p.destination === name && p.requests > 0)
      .map((p) => ({ source: p.source, sourceVersion: p.sourceVersion, requests: p.requests, mtls: p.mtls }));
  }

  /** Inbound rps of every service in `stepSeconds` bins over the last `seconds` complete seconds (overview trends). */
  rpsTrends(seconds: number, stepSeconds: number, nowMs = Date.now()): { range: TrendRange; bins: number; trends: Map<string, number[]> } {
    const { fromSec, toSec } = windowRange(nowMs, seconds);
    const range = { fromSec, toSec, stepSeconds };
    return { range, bins: trendBins(range), trends: inboundRpsTrends(this.store.range(fromSec, toSec), range) };
  }

  serviceStats(name: string, windowSeconds = DEFAULT_WINDOW_SECONDS, seriesSeconds = 120, nowMs = Date.now()): ServiceStats {
    const { fromSec, toSec } = windowRange(nowMs, windowSeconds);
    const pairs = aggregatePairs(this.store.range(fromSec, toSec));
    const summary = (list: typeof pairs): EdgeSummary[] =>
      list.map((p) => ({
        source: p.source,
        sourceVersion: p.sourceVersion,
        destination: p.destination,
        destinationVersion: p.destinationVersion,
        byStatus: p.byStatus,
        ...(p.grpcStatus !== undefined ? { grpcStatus: p.grpcStatus } : {}),
        ...statsOf(p, windowSeconds),
      }));
    const inbound = pairs.filter((p) => p.destination === name);
    const outbound = pairs.filter((p) => p.source === name);

    const series: SeriesPoint[] = [];
    const seriesRange = windowRange(nowMs, seriesSeconds);
    const buckets = new Map(this.store.range(seriesRange.fromSec, seriesRange.toSec).map((b) => [b.sec, b]));
    for (let sec = seriesRange.fromSec; sec <= seriesRange.toSec; sec++) {
      const b = buckets.get(sec);
      const total = sumPairs(b ? aggregatePairs([b]).filter((p) => p.destination === name) : []);
      const s = statsOf(total, 1);
      series.push({ t: sec * 1000, rps: s.rps, p50Ms: s.p50Ms, p99Ms: s.p99Ms, errorPct: s.errorPct });
    }
    return {
      windowSeconds,
      inbound: statsOf(sumPairs(inbound), windowSeconds),
      outbound: statsOf(sumPairs(outbound), windowSeconds),
      edgesIn: summary(inbound),
      edgesOut: summary(outbound),
      series,
    };
  }
}

export { pairKey };

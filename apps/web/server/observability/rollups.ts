/**
 * Rolls the in-memory 1-second windows (TelemetryStore) into per-edge 1-minute MetricRollup rows, periodically, once a
 * minute is settled; and serves chart series: live memory for the recent minutes, rollups beyond.
 */
import { BUCKET_COUNT } from "@trellis/protocol";
import { aggregatePairs, SETTLE_SECONDS } from "../../shared/edge-stats.ts";
import { binSecondsFor, buildSeries, liveBoundarySec, type MetricPoint, type SeriesBin } from "../../shared/metric-series.ts";
import type { Logger } from "../log.ts";
import { type RunExclusively, runHere } from "../replicas/leases.ts";
import type { RollupRepository, RollupRow } from "../repositories/rollups.ts";
import type { TelemetryStore } from "../telemetry-store.ts";

export const ROLLUP_SECONDS = 60;

export interface RollupOptions {
  intervalMs: number;
  maxAgeMs: number;
}

export function rollupOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RollupOptions {
  const n = (name: string, def: number) => {
    const v = Number(env[name]);
    return env[name] ? (Number.isFinite(v) && v > 0 ? v : def) : def;
  };
  return { intervalMs: n("TRELLIS_ROLLUP_INTERVAL_MS", 10_000), maxAgeMs: n("TRELLIS_ROLLUP_MAX_AGE_DAYS", 7) * 86_400_000 };
}

/** Pure: one minute of 1-second buckets → one row per edge (source@v → destination@v) with traffic. */
export function rollMinute(store: TelemetryStore, minuteSec: number): RollupRow[] {
  const pairs = aggregatePairs(store.range(minuteSec, minuteSec + ROLLUP_SECONDS - 1));
  return pairs
    .filter((p) => p.requests > 0)
    .map((p) => {
      const counts = new Array<number>(BUCKET_COUNT).fill(0);
      for (let i = 0; i < BUCKET_COUNT; i++) counts[i] = p.latency.counts[i] ?? 0;
      return {
        bucketStartMs: minuteSec * 1000,
        resolutionSeconds: ROLLUP_SECONDS,
        source: p.source,
        sourceVersion: p.sourceVersion,
        destination: p.destination,
        destinationVersion: p.destinationVersion,
        requests: p.requests,
        errors: p.errors,
        counts,
        sumMs: p.latency.sumMs,
      };
    });
}

export class RollupTask {
  private timer: NodeJS.Timeout | null = null;
  private lastMinuteSec: number | null = null;
  private running: Promise<number> | null = null;
  rowsWritten = 0;

  constructor(
    private readonly store: TelemetryStore,
    private readonly repo: RollupRepository,
    readonly options: RollupOptions,
    private readonly log: Logger,
    /** Replicas: only the holder of the `rollups` lease writes (every replica's store holds every agent's traffic). */
    private readonly exclusive: RunExclusively = runHere,
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.exclusive("rollups", () => this.run()), this.options.intervalMs);
  }

  /** Rolls every settled minute not rolled yet (and still in memory). Returns rows written. */
  run(nowMs = Date.now()): Promise<number> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        // From the database each time: another replica may have held the lease and rolled minutes meanwhile.
        const latest = await this.repo.latestBucketMs(ROLLUP_SECONDS);
        if (latest !== null) this.lastMinuteSec = Math.max(this.lastMinuteSec ?? 0, latest / 1000);
        const nowSec = Math.floor(nowMs / 1000);
        // A minute is settled once its last second is (SETTLE_SECONDS after it).
        const lastSettled = Math.floor((nowSec - SETTLE_SECONDS - ROLLUP_SECONDS + 1) / ROLLUP_SECONDS) * ROLLUP_SECONDS;
        const memoryStart = Math.ceil((nowSec - this.store.retentionSeconds + 1) / ROLLUP_SECONDS) * ROLLUP_SECONDS;
        let minute = this.lastMinuteSec === null ? memoryStart : Math.max(this.lastMinuteSec + ROLLUP_SECONDS, memoryStart);
        let written = 0;
        for (; minute <= lastSettled; minute += ROLLUP_SECONDS) {
          const rows = rollMinute(this.store, minute);
          if (rows.length) written += await this.repo.insertMany(rows);
          this.lastMinuteSec = minute;
        }
        if (written) await this.repo.prune(this.options.maxAgeMs, nowMs);
        this.rowsWritten += written;
        return written;
      } catch (err) {
        this.log.warn("metric rollup failed", { error: (err as Error).message });
        return 0;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export interface SeriesScope {
  /** Inbound traffic of a service… */
  service?: string;
  /** …or one edge source → destination. */
  source?: string;
  destination?: string;
}

export interface SeriesResult {
  rangeSeconds: number;
  binSeconds: number;
  fromMs: number;
  toMs: number;
  /** Seconds before this came from rollups, after it from live memory. */
  liveFromMs: number;
  bins: SeriesBin[];
}

function matches(scope: SeriesScope, e: { source: string; destination: string }): boolean {
  if (scope.service) return e.destination === scope.service;
  return (!scope.source || e.source === scope.source) && (!scope.destination || e.destination === scope.destination);
}

/** Chart series for a scope over the last `rangeSeconds`: rollups for older minutes, live 1-s memory for the rest. */
export async function seriesFor(
  store: TelemetryStore,
  repo: RollupRepository,
  scope: SeriesScope,
  rangeSeconds: number,
  nowMs = Date.now(),
): Promise<SeriesResult> {
  const nowSec = Math.floor(nowMs / 1000);
  const toSec = nowSec - SETTLE_SECONDS;
  const fromSec = toSec - rangeSeconds + 1;
  const binSeconds = binSecondsFor(rangeSeconds);
  // Ranges the memory (nearly) covers are served from it alone; longer ones take whole rollup minutes first.
  const boundary = rangeSeconds <= store.retentionSeconds ? fromSec : Math.max(fromSec, liveBoundarySec(nowSec, store.retentionSeconds));
  const points: MetricPoint[] = [];
  if (boundary > fromSec) {
    const rows = await repo.range({
      fromMs: Math.floor(fromSec / 60) * 60_000,
      toMs: boundary * 1000,
      ...(scope.service ? { destination: scope.service } : { source: scope.source, destination: scope.destination }),
    });
    for (const r of rows) {
      if (!matches(scope, r)) continue;
      points.push({ sec: Math.max(fromSec, r.bucketStartMs / 1000), requests: r.requests, errors: r.errors, counts: r.counts, sumMs: r.sumMs });
    }
  }
  for (const b of store.range(boundary, toSec)) {
    for (const e of b.edges) {
      if (!matches(scope, e)) continue;
      points.push({ sec: b.sec, requests: e.requests, errors: e.errors, counts: e.latency.counts, sumMs: e.latency.sumMs });
    }
  }
  return {
    rangeSeconds,
    binSeconds,
    fromMs: fromSec * 1000,
    toMs: toSec * 1000,
    liveFromMs: boundary * 1000,
    bins: buildSeries(points, fromSec, toSec, binSeconds),
  };
}

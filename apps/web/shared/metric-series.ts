/**
 * Pure view-model for metric charts: per-second (live memory) and per-minute (rollup) points → evenly binned series
 * of rps, p50/p95/p99 latency and error rate over a selectable range. Histograms merge exactly, so a bin's
 * percentiles are exact to the protocol's bucket bounds whatever mix of sources it came from.
 */
import { BUCKET_COUNT, type Histogram, quantile } from "@trellis/protocol";

export interface MetricPoint {
  /** Start of the second (live) or of the rollup bucket, unix seconds. */
  sec: number;
  requests: number;
  errors: number;
  counts: number[];
  sumMs: number;
}

export interface SeriesBin {
  /** Bin start, unix ms. */
  t: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errorPct: number;
  requests: number;
  errors: number;
}

export const RANGES = [
  { seconds: 300, label: "5 min" },
  { seconds: 900, label: "15 min" },
  { seconds: 3600, label: "1 h" },
  { seconds: 6 * 3600, label: "6 h" },
  { seconds: 24 * 3600, label: "24 h" },
] as const;

export const MIN_RANGE_SECONDS = 300;
export const MAX_RANGE_SECONDS = 24 * 3600;

/** Bin width for a range: ≤ ~100 points, and whole minutes once rollups (1-minute buckets) are involved. */
export function binSecondsFor(rangeSeconds: number): number {
  if (rangeSeconds <= 300) return 5;
  if (rangeSeconds <= 900) return 10;
  if (rangeSeconds <= 3600) return 60;
  if (rangeSeconds <= 6 * 3600) return 300;
  return 900;
}

function r2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Bins points into [fromSec, toSec] (inclusive), every bin present (zeros where idle), oldest first. */
export function buildSeries(points: Iterable<MetricPoint>, fromSec: number, toSec: number, binSeconds: number): SeriesBin[] {
  const start = Math.floor(fromSec / binSeconds) * binSeconds;
  const n = Math.max(0, Math.floor((toSec - start) / binSeconds) + 1);
  const bins = Array.from({ length: n }, () => ({
    requests: 0,
    errors: 0,
    hist: { counts: new Array<number>(BUCKET_COUNT).fill(0), sumMs: 0 } as Histogram,
  }));
  for (const p of points) {
    if (p.sec < start || p.sec > toSec) continue;
    const b = bins[Math.floor((p.sec - start) / binSeconds)];
    if (!b) continue;
    b.requests += p.requests;
    b.errors += p.errors;
    for (let i = 0; i < p.counts.length && i < BUCKET_COUNT; i++) b.hist.counts[i] += p.counts[i] ?? 0;
    b.hist.sumMs += p.sumMs;
  }
  return bins.map((b, i) => {
    // The first and last bins can be partial: rate over the seconds of the bin inside the range.
    const binStart = start + i * binSeconds;
    const covered = Math.min(toSec, binStart + binSeconds - 1) - Math.max(fromSec, binStart) + 1;
    const seconds = Math.max(1, covered);
    const has = b.requests > 0;
    return {
      t: binStart * 1000,
      rps: r2(b.requests / seconds),
      p50Ms: has ? r2(quantile(b.hist, 0.5)) : 0,
      p95Ms: has ? r2(quantile(b.hist, 0.95)) : 0,
      p99Ms: has ? r2(quantile(b.hist, 0.99)) : 0,
      errorPct: has ? r2((b.errors / b.requests) * 100) : 0,
      requests: b.requests,
      errors: b.errors,
    };
  });
}

/** Where live memory takes over from rollups: the first whole minute the in-memory window fully covers. */
export function liveBoundarySec(nowSec: number, memorySeconds: number): number {
  return Math.ceil((nowSec - memorySeconds + 5) / 60) * 60;
}

/** Short time label for an axis tick. */
export function formatTick(tMs: number, rangeSeconds: number): string {
  const d = new Date(tMs);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  if (rangeSeconds <= 900) return `${hh}:${mm}:${String(d.getSeconds()).padStart(2, "0")}`;
  return `${hh}:${mm}`;
}

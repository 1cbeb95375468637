/**
 * Latency histogram with fixed bucket bounds shared by every agent and the console, so that windows from different
 * agents and different seconds merge exactly (element-wise add) and percentiles are derived from the merged buckets.
 * Bounds are fine below 10 ms because a proxy's added latency lives there.
 */
import { z } from "zod";

/** Upper bounds in milliseconds (inclusive). One more bucket follows for anything slower (+Inf). */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9, 10, 12.5, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500,
  2000, 3000, 5000, 10000, 30000,
]);

/** Number of counters: one per bound plus the overflow bucket. */
export const BUCKET_COUNT = LATENCY_BUCKETS_MS.length + 1;

export const histogramSchema = z.object({
  /** Per-bucket counts (not cumulative); trailing zero buckets may be omitted. */
  counts: z.array(z.number().int().nonnegative()).max(BUCKET_COUNT),
  /** Sum of all observed values in milliseconds (for the mean). */
  sumMs: z.number().nonnegative(),
});
export type Histogram = z.infer<typeof histogramSchema>;

export function emptyHistogram(): Histogram {
  return { counts: new Array<number>(BUCKET_COUNT).fill(0), sumMs: 0 };
}

/** Index of the bucket a value falls into (binary search over the bounds). */
export function bucketIndex(valueMs: number): number {
  let lo = 0;
  let hi = LATENCY_BUCKETS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (valueMs <= LATENCY_BUCKETS_MS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Records one observation in place. The histogram must have full-length counts (as from emptyHistogram). */
export function observe(h: Histogram, valueMs: number): void {
  const v = Math.max(valueMs, 0);
  h.counts[bucketIndex(v)]++;
  h.sumMs += v;
}

export function histogramCount(h: Histogram): number {
  let n = 0;
  for (const c of h.counts) n += c;
  return n;
}

/** Adds `from` into `into` in place; `into` is extended to full length if needed. Exact: merge(a,b) == observe-all. */
export function mergeInto(into: Histogram, from: Histogram): Histogram {
  while (into.counts.length < BUCKET_COUNT) into.counts.push(0);
  for (let i = 0; i < from.counts.length; i++) into.counts[i] += from.counts[i];
  into.sumMs += from.sumMs;
  return into;
}

export function mergeHistograms(list: Iterable<Histogram>): Histogram {
  const out = emptyHistogram();
  for (const h of list) mergeInto(out, h);
  return out;
}

/** Drops trailing zero buckets for the wire. */
export function compactHistogram(h: Histogram): Histogram {
  let end = h.counts.length;
  while (end > 0 && h.counts[end - 1] === 0) end--;
  return { counts: h.counts.slice(0, end), sumMs: h.sumMs };
}

/**
 * The q-quantile (0..1) in milliseconds, interpolated linearly inside the bucket that holds it.
 * Returns 0 for an empty histogram. Values in the overflow bucket report the last finite bound.
 */
export function quantile(h: Histogram, q: number): number {
  const total = histogramCount(h);
  if (total === 0) return 0;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c === 0) continue;
    if (seen + c >= rank) {
      if (i >= LATENCY_BUCKETS_MS.length) return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      const upper = LATENCY_BUCKETS_MS[i];
      const within = (rank - seen) / c;
      return lower + (upper - lower) * within;
    }
    seen += c;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
}

export function meanMs(h: Histogram): number {
  const n = histogramCount(h);
  return n === 0 ? 0 : h.sumMs / n;
}

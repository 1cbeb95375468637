/**
 * A small trend per service for the services overview: inbound requests per second in fixed bins over the last
 * minutes, computed straight from the store's buckets (no per-bin pair aggregation: a bin only needs a sum).
 */
import type { SecondBucket } from "./edge-stats.ts";

export interface TrendRange {
  /** First and last second covered (inclusive), unix seconds. */
  fromSec: number;
  toSec: number;
  /** Width of one bin, seconds. */
  stepSeconds: number;
}

/** Number of bins that cover the range (the first one may be partial when the range is not a multiple of the step). */
export function trendBins(r: TrendRange): number {
  return Math.max(0, Math.ceil((r.toSec - r.fromSec + 1) / r.stepSeconds));
}

/**
 * Inbound rps per destination service, one value per bin, oldest first; bins end at `toSec` so the newest bin is
 * whole. A bucket counts in the bin that holds its first second (10-second buckets land whole in one bin).
 */
export function inboundRpsTrends(buckets: Iterable<SecondBucket>, r: TrendRange): Map<string, number[]> {
  const bins = trendBins(r);
  const out = new Map<string, number[]>();
  if (bins === 0) return out;
  // Anchor bins on toSec: bin bins-1 is [toSec - step + 1, toSec].
  const firstBinStart = r.toSec + 1 - bins * r.stepSeconds;
  for (const b of buckets) {
    if (b.sec < r.fromSec || b.sec > r.toSec) continue;
    const bin = Math.floor((b.sec - firstBinStart) / r.stepSeconds);
    for (const e of b.edges) {
      if (e.requests <= 0) continue;
      let series = out.get(e.destination);
      if (!series) {
        series = new Array<number>(bins).fill(0);
        out.set(e.destination, series);
      }
      series[bin] += e.requests;
    }
  }
  for (const series of out.values()) for (let i = 0; i < series.length; i++) series[i] = Math.round((series[i] / r.stepSeconds) * 100) / 100;
  return out;
}

/**
 * The `points` of an SVG polyline drawing `values` in a `width` × `height` box: x evenly spread, y from 0 (bottom)
 * to the largest value (top, with a 1-unit margin so the stroke is not clipped). Empty for no values.
 */
export function sparklinePoints(values: readonly number[], width: number, height: number): string {
  if (values.length === 0) return "";
  const max = Math.max(0, ...values);
  const top = 1;
  const bottom = height - 1;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const y = max > 0 ? bottom - (Math.max(0, v) / max) * (bottom - top) : bottom;
      return `${round1(i * step)},${round1(y)}`;
    })
    .join(" ");
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * In-memory store of recent telemetry: 1-second buckets (last 15 minutes) of per-edge stats keyed by
 * (source, sourceVersion, destination, destinationVersion, statusClass). Ingestion merges exactly (counters add,
 * histograms add element-wise) and is O(edges in the frame): no I/O, no awaits.
 */
import { BUCKET_COUNT, type EdgeStats, type TelemetryWindow, mergeInto } from "@trellis/protocol";
import type { EdgeRecord, SecondBucket } from "../src/lib/edge-stats.ts";

export interface TelemetryStoreOptions {
  /** Seconds of history kept. Default 900 (15 minutes). */
  retentionSeconds?: number;
  /** A window that starts more than this far from the console's clock is placed at receipt time instead. */
  maxSkewMs?: number;
}

export class TelemetryStore {
  readonly retentionSeconds: number;
  private readonly maxSkewMs: number;
  private readonly buckets = new Map<number, Map<string, EdgeRecord>>();
  private oldestSec = Number.POSITIVE_INFINITY;
  /** Totals for observability. */
  windowsIngested = 0;
  /** Bumped on every ingest: readers memoize on it. */
  version = 0;
  edgesIngested = 0;

  constructor(opts: TelemetryStoreOptions = {}) {
    this.retentionSeconds = opts.retentionSeconds ?? 900;
    this.maxSkewMs = opts.maxSkewMs ?? 60_000;
  }

  /** The second a window belongs to: its start (agent clock) unless too skewed, else the previous console second. */
  bucketSecond(window: Pick<TelemetryWindow, "windowStart">, nowMs: number): number {
    const skew = window.windowStart - nowMs;
    if (skew > 5_000 || skew < -this.maxSkewMs) return Math.floor(nowMs / 1000) - 1;
    return Math.floor(window.windowStart / 1000);
  }

  ingest(window: Pick<TelemetryWindow, "windowStart" | "edges">, nowMs: number = Date.now()): number {
    const sec = this.bucketSecond(window, nowMs);
    const nowSec = Math.floor(nowMs / 1000);
    if (sec <= nowSec - this.retentionSeconds) return 0;
    let bucket = this.buckets.get(sec);
    if (!bucket) {
      bucket = new Map();
      this.buckets.set(sec, bucket);
      if (sec < this.oldestSec) this.oldestSec = sec;
    }
    for (const e of window.edges) this.add(bucket, e);
    this.windowsIngested++;
    this.version++;
    this.edgesIngested += window.edges.length;
    this.prune(nowSec);
    return window.edges.length;
  }

  private add(bucket: Map<string, EdgeRecord>, e: EdgeStats): void {
    const key = `${e.source}\u0000${e.sourceVersion}\u0000${e.destination}\u0000${e.destinationVersion}\u0000${e.statusClass}`;
    let rec = bucket.get(key);
    if (!rec) {
      rec = {
        source: e.source,
        sourceVersion: e.sourceVersion,
        destination: e.destination,
        destinationVersion: e.destinationVersion,
        statusClass: e.statusClass,
        requests: 0,
        errors: 0,
        bytesIn: 0,
        bytesOut: 0,
        mtls: 0,
        latency: { counts: new Array<number>(BUCKET_COUNT).fill(0), sumMs: 0 },
      };
      bucket.set(key, rec);
    }
    rec.requests += e.requests;
    rec.errors += e.errors;
    rec.bytesIn += e.bytesIn;
    rec.bytesOut += e.bytesOut;
    rec.mtls += e.mtls ?? 0;
    mergeInto(rec.latency, e.latency);
  }

  /** Drops buckets older than the retention. Cheap when nothing expired. */
  prune(nowSec: number = Math.floor(Date.now() / 1000)): void {
    const cutoff = nowSec - this.retentionSeconds;
    if (this.oldestSec > cutoff) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const sec of this.buckets.keys()) {
      if (sec <= cutoff) this.buckets.delete(sec);
      else if (sec < oldest) oldest = sec;
    }
    this.oldestSec = oldest;
  }

  /** Buckets with data for seconds in [fromSec, toSec], ascending. */
  range(fromSec: number, toSec: number): SecondBucket[] {
    const out: SecondBucket[] = [];
    if (toSec - fromSec + 1 <= this.buckets.size) {
      for (let sec = fromSec; sec <= toSec; sec++) {
        const b = this.buckets.get(sec);
        if (b) out.push({ sec, edges: [...b.values()] });
      }
    } else {
      for (const [sec, b] of this.buckets) if (sec >= fromSec && sec <= toSec) out.push({ sec, edges: [...b.values()] });
      out.sort((a, b) => a.sec - b.sec);
    }
    return out;
  }

  get bucketCount(): number {
    return this.buckets.size;
  }
}

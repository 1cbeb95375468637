/**
 * In-memory store of recent telemetry (last 15 minutes) of per-edge stats keyed by
 * (source, sourceVersion, destination, destinationVersion, statusClass). Ingestion merges exactly (counters add,
 * histograms add element-wise) and is O(edges in the frame): no I/O, no awaits.
 *
 * Two tiers keep memory bounded for large meshes: 1-second buckets for the recent `fineSeconds` (the live graph, the
 * per-second service series), and beyond that 10-second buckets aligned to multiples of 10 s (so whole rollup minutes
 * and chart bins of 10 s or more stay exact). A second moves whole from the fine to the coarse tier, so every second
 * is counted exactly once. Records share one interned identity per edge key instead of the strings of each frame, and
 * histograms are only as long as their highest non-empty bucket.
 */
import type { EdgeStats, TelemetryWindow } from "@trellis/protocol";
import { addConnections, addGrpcStatus, addMirrored, type EdgeRecord, type SecondBucket } from "../shared/edge-stats.ts";

export interface TelemetryStoreOptions {
  /** Seconds of history kept. Default 900 (15 minutes). */
  retentionSeconds?: number;
  /**
   * Seconds kept at 1-second resolution; older ones are merged into 10-second buckets. Default 310: the shortest chart
   * range (5 min, binned by 5 s — see binSecondsFor) then reads only 1-second data; longer ranges bin by ≥ 10 s.
   */
  fineSeconds?: number;
  /** A window that starts more than this far from the console's clock is placed at receipt time instead. */
  maxSkewMs?: number;
}

/** Width of a coarse bucket, seconds. */
export const COARSE_SECONDS = 10;

type Bucket = Map<string, EdgeRecord>;

interface EdgeIdentity {
  key: string;
  source: string;
  sourceVersion: string;
  destination: string;
  destinationVersion: string;
  statusClass: EdgeStats["statusClass"];
}

export class TelemetryStore {
  readonly retentionSeconds: number;
  readonly fineSeconds: number;
  private readonly maxSkewMs: number;
  /** 1-second buckets by unix second. */
  private readonly fine = new Map<number, Bucket>();
  /** 10-second buckets by their first unix second (a multiple of 10). */
  private readonly coarse = new Map<number, Bucket>();
  /** Interned edge identities: one set of strings per edge key, however many seconds hold it. */
  private readonly identities = new Map<string, EdgeIdentity>();
  private oldestFine = Number.POSITIVE_INFINITY;
  private oldestCoarse = Number.POSITIVE_INFINITY;
  /** Totals for observability. */
  windowsIngested = 0;
  /** Bumped on every ingest: readers memoize on it. */
  version = 0;
  edgesIngested = 0;

  constructor(opts: TelemetryStoreOptions = {}) {
    this.retentionSeconds = opts.retentionSeconds ?? 900;
    this.fineSeconds = Math.min(opts.fineSeconds ?? 310, this.retentionSeconds);
    this.maxSkewMs = opts.maxSkewMs ?? 60_000;
  }

  /** The second a window belongs to: its start (agent clock) unless too skewed, else the previous console second. */
  bucketSecond(window: Pick<TelemetryWindow, "windowStart">, nowMs: number): number {
    const skew = window.windowStart - nowMs;
    if (skew > 5_000 || skew < -this.maxSkewMs) return Math.floor(nowMs / 1000) - 1;
    return Math.floor(window.windowStart / 1000);
  }

  ingest(window: Pick<TelemetryWindow, "windowStart" | "edges">, nowMs: number = Date.now()): number {
    return this.merge(this.bucketSecond(window, nowMs), window.edges, nowMs);
  }

  /** Adds edge records to second `sec` (an agent's window placed by `ingest`, or another replica's aggregate). */
  merge(sec: number, edges: readonly (EdgeStats | EdgeRecord)[], nowMs: number = Date.now()): number {
    const nowSec = Math.floor(nowMs / 1000);
    if (sec <= nowSec - this.retentionSeconds) return 0;
    this.prune(nowSec);
    const bucket = sec > nowSec - this.fineSeconds ? this.bucketIn(this.fine, sec) : this.bucketIn(this.coarse, coarseStart(sec));
    for (const e of edges) this.add(bucket, e);
    this.windowsIngested++;
    this.version++;
    this.edgesIngested += edges.length;
    return edges.length;
  }

  private bucketIn(tier: Map<number, Bucket>, sec: number): Bucket {
    let bucket = tier.get(sec);
    if (!bucket) {
      bucket = new Map();
      tier.set(sec, bucket);
      if (tier === this.fine) this.oldestFine = Math.min(this.oldestFine, sec);
      else this.oldestCoarse = Math.min(this.oldestCoarse, sec);
    }
    return bucket;
  }

  private identity(e: Pick<EdgeRecord, "source" | "sourceVersion" | "destination" | "destinationVersion" | "statusClass">): EdgeIdentity {
    const key = `${e.source}\u0000${e.sourceVersion}\u0000${e.destination}\u0000${e.destinationVersion}\u0000${e.statusClass}`;
    let id = this.identities.get(key);
    if (!id) {
      id = {
        key,
        source: e.source,
        sourceVersion: e.sourceVersion,
        destination: e.destination,
        destinationVersion: e.destinationVersion,
        statusClass: e.statusClass,
      };
      this.identities.set(key, id);
    }
    return id;
  }

  private add(bucket: Bucket, e: EdgeStats | EdgeRecord): void {
    const id = this.identity(e);
    let rec = bucket.get(id.key);
    if (!rec) {
      rec = {
        source: id.source,
        sourceVersion: id.sourceVersion,
        destination: id.destination,
        destinationVersion: id.destinationVersion,
        statusClass: id.statusClass,
        requests: 0,
        errors: 0,
        bytesIn: 0,
        bytesOut: 0,
        mtls: 0,
        latency: { counts: [], sumMs: 0 },
      };
      bucket.set(id.key, rec);
    }
    rec.requests += e.requests;
    rec.errors += e.errors;
    rec.bytesIn += e.bytesIn;
    rec.bytesOut += e.bytesOut;
    rec.mtls += e.mtls ?? 0;
    addMirrored(rec, e);
    if (e.connectionsOpened !== undefined || e.connectionsOpen !== undefined) addConnections(rec, e);
    addGrpcStatus(rec, e);
    addCounts(rec.latency.counts, e.latency.counts);
    rec.latency.sumMs += e.latency.sumMs;
  }

  /**
   * Moves seconds that left the fine tier into their 10-second bucket, drops buckets older than the retention, and
   * forgets identities no bucket uses any more. Cheap when nothing is due.
   */
  prune(nowSec: number = Math.floor(Date.now() / 1000)): void {
    const fineCutoff = nowSec - this.fineSeconds;
    const cutoff = nowSec - this.retentionSeconds;
    if (this.oldestFine <= fineCutoff) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const [sec, bucket] of this.fine) {
        if (sec > fineCutoff) {
          if (sec < oldest) oldest = sec;
          continue;
        }
        this.fine.delete(sec);
        if (sec <= cutoff) continue;
        const target = this.bucketIn(this.coarse, coarseStart(sec));
        for (const rec of bucket.values()) this.add(target, rec);
      }
      this.oldestFine = oldest;
    }
    if (this.oldestCoarse + COARSE_SECONDS - 1 <= cutoff) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const sec of this.coarse.keys()) {
        if (sec + COARSE_SECONDS - 1 <= cutoff) this.coarse.delete(sec);
        else if (sec < oldest) oldest = sec;
      }
      this.oldestCoarse = oldest;
      this.forgetUnusedIdentities();
    }
  }

  private forgetUnusedIdentities(): void {
    const used = new Set<string>();
    for (const tier of [this.fine, this.coarse]) for (const bucket of tier.values()) for (const key of bucket.keys()) used.add(key);
    for (const key of this.identities.keys()) if (!used.has(key)) this.identities.delete(key);
  }

  /**
   * Buckets with data in [fromSec, toSec], ascending by start. Seconds older than `fineSeconds` come as 10-second
   * buckets (`seconds: 10`), included when their start lies in the range.
   */
  range(fromSec: number, toSec: number): SecondBucket[] {
    const out: SecondBucket[] = [];
    for (const [sec, b] of this.coarse) if (sec >= fromSec && sec <= toSec) out.push({ sec, seconds: COARSE_SECONDS, edges: [...b.values()] });
    if (toSec - fromSec + 1 <= this.fine.size) {
      for (let sec = fromSec; sec <= toSec; sec++) {
        const b = this.fine.get(sec);
        if (b) out.push({ sec, seconds: 1, edges: [...b.values()] });
      }
    } else {
      for (const [sec, b] of this.fine) if (sec >= fromSec && sec <= toSec) out.push({ sec, seconds: 1, edges: [...b.values()] });
    }
    out.sort((a, b) => a.sec - b.sec);
    return out;
  }

  /** Buckets held in both tiers. */
  get bucketCount(): number {
    return this.fine.size + this.coarse.size;
  }

  /** Edge records held (one per edge key per bucket): what the store's memory grows with. */
  get recordCount(): number {
    let n = 0;
    for (const tier of [this.fine, this.coarse]) for (const bucket of tier.values()) n += bucket.size;
    return n;
  }
}

function coarseStart(sec: number): number {
  return sec - (((sec % COARSE_SECONDS) + COARSE_SECONDS) % COARSE_SECONDS);
}

/** Element-wise add, growing `into` only as far as `from` has buckets (compact histograms stay compact). */
function addCounts(into: number[], from: readonly number[]): void {
  let end = from.length;
  while (end > 0 && from[end - 1] === 0) end--;
  for (let i = into.length; i < end; i++) into.push(0);
  for (let i = 0; i < end; i++) into[i] += from[i];
}

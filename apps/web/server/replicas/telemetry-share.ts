/**
 * Live telemetry across replicas: each replica's agents report to it alone, yet every replica's live graph shows every
 * agent. So each replica shares what its own agents reported: the windows it ingests are also merged into a per-second
 * delta (per edge key, exact histogram merge), and every `flushMs` that delta is sent to the other replicas and
 * started afresh; they merge it into their own store. A delta is sent once and merged once, so every second's totals
 * come out exact on every replica, however the agents' windows for it were split between deltas.
 *
 * On the wire (PostgreSQL NOTIFY, payload < 8000 bytes) a delta is cut into self-contained chunks of whole records,
 * each record a compact array: no reassembly, a lost chunk loses only its own records.
 */
import { type EdgeStats, edgeStatsSchema, type TelemetryWindow } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import { TelemetryStore } from "../telemetry-store.ts";

/** NOTIFY payloads must stay under 8000 bytes; the rest is headroom. */
export const MAX_CHUNK_BYTES = 7_500;

/** What a record carries beyond the fixed fields, last on the wire when present: mirrored copies, gRPC status codes. */
interface Extras {
  m?: number;
  g?: Record<string, number>;
}

type Wire = [
  number,
  string,
  string,
  string,
  string,
  EdgeStats["statusClass"],
  number,
  number,
  number,
  number,
  number,
  number,
  number[],
  ...(number | Extras)[],
];

export function encodeRecord(sec: number, e: EdgeStats): string {
  const row: Wire = [
    sec,
    e.source,
    e.sourceVersion,
    e.destination,
    e.destinationVersion,
    e.statusClass,
    e.requests,
    e.errors,
    e.bytesIn,
    e.bytesOut,
    e.mtls,
    Math.round(e.latency.sumMs * 1000) / 1000,
    trimmed(e.latency.counts),
  ];
  if (e.connectionsOpened !== undefined || e.connectionsOpen !== undefined)
    row.push(e.connectionsOpened ?? 0, e.connectionsOpen ?? 0, e.connectionsClosed ?? 0, e.connectionMs ?? 0);
  if (e.mirrored !== undefined || e.grpcStatus !== undefined) {
    const extras: Extras = {};
    if (e.mirrored !== undefined) extras.m = e.mirrored;
    if (e.grpcStatus !== undefined) extras.g = e.grpcStatus;
    row.push(extras);
  }
  return JSON.stringify(row);
}

/** Records into JSON arrays of at most `maxBytes` each (a record is never split). */
export function chunk(records: string[], maxBytes = MAX_CHUNK_BYTES): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const r of records) {
    const len = Buffer.byteLength(r) + 1;
    if (parts.length > 0 && size + len > maxBytes) {
      out.push(`[${parts.join(",")}]`);
      parts = [];
      size = 2;
    }
    parts.push(r);
    size += len;
  }
  if (parts.length > 0) out.push(`[${parts.join(",")}]`);
  return out;
}

/** A chunk back into (second, record) pairs; records that fail the protocol's schema are dropped. */
export function decodeChunk(payload: string): { sec: number; edge: EdgeStats }[] {
  const rows = JSON.parse(payload) as unknown;
  if (!Array.isArray(rows)) throw new Error("telemetry chunk is not an array");
  const out: { sec: number; edge: EdgeStats }[] = [];
  for (const r of rows) {
    if (!Array.isArray(r) || typeof r[0] !== "number") continue;
    const [sec, source, sourceVersion, destination, destinationVersion, statusClass, requests, errors, bytesIn, bytesOut, mtls, sumMs, counts] = r;
    const last = r[r.length - 1];
    const extras: Extras = typeof last === "object" && last !== null && !Array.isArray(last) ? last : {};
    const fixed = extras === last ? r.length - 1 : r.length;
    const conn = fixed >= 17 ? { connectionsOpened: r[13], connectionsOpen: r[14], connectionsClosed: r[15], connectionMs: r[16] } : {};
    const parsed = edgeStatsSchema.safeParse({
      source,
      sourceVersion,
      destination,
      destinationVersion,
      statusClass,
      requests,
      errors,
      bytesIn,
      bytesOut,
      mtls,
      latency: { counts, sumMs },
      ...conn,
      ...(extras.m !== undefined ? { mirrored: extras.m } : {}),
      ...(extras.g !== undefined ? { grpcStatus: extras.g } : {}),
    });
    if (parsed.success) out.push({ sec, edge: parsed.data });
  }
  return out;
}

function trimmed(counts: readonly number[]): number[] {
  let end = counts.length;
  while (end > 0 && counts[end - 1] === 0) end--;
  return counts.slice(0, end);
}

export interface TelemetryShareStats {
  chunksSent: number;
  bytesSent: number;
  recordsSent: number;
  chunksReceived: number;
  bytesReceived: number;
  recordsMerged: number;
  chunksRejected: number;
}

export class TelemetryShare {
  private delta = newDelta();
  private timer: NodeJS.Timeout | null = null;
  readonly stats: TelemetryShareStats = {
    chunksSent: 0,
    bytesSent: 0,
    recordsSent: 0,
    chunksReceived: 0,
    bytesReceived: 0,
    recordsMerged: 0,
    chunksRejected: 0,
  };

  constructor(
    private readonly store: TelemetryStore,
    /** Sends one chunk to the other replicas (fire and forget). */
    private readonly send: (payload: string) => void,
    private readonly flushMs: number,
    private readonly log: Logger,
  ) {}

  /** An agent's window: into this replica's store, and into the delta the others get. */
  ingest(window: TelemetryWindow, nowMs = Date.now()): void {
    const sec = this.store.bucketSecond(window, nowMs);
    this.store.merge(sec, window.edges, nowMs);
    if (window.edges.length > 0) this.delta.merge(sec, window.edges, nowMs);
  }

  /** Another replica's chunk: merged into this replica's store only (never shared on: no echo). */
  receive(payload: string, nowMs = Date.now()): void {
    this.stats.chunksReceived++;
    this.stats.bytesReceived += Buffer.byteLength(payload);
    let records: { sec: number; edge: EdgeStats }[];
    try {
      records = decodeChunk(payload);
    } catch (err) {
      this.stats.chunksRejected++;
      this.log.warn("telemetry chunk from another replica rejected", { error: (err as Error).message });
      return;
    }
    const bySec = new Map<number, EdgeStats[]>();
    for (const { sec, edge } of records) {
      const list = bySec.get(sec);
      if (list) list.push(edge);
      else bySec.set(sec, [edge]);
    }
    for (const [sec, edges] of bySec) this.stats.recordsMerged += this.store.merge(sec, edges, nowMs);
  }

  /** Sends the delta gathered since the last flush and starts a new one. */
  flush(): void {
    const delta = this.delta;
    if (delta.recordCount === 0) return;
    this.delta = newDelta();
    const records: string[] = [];
    for (const b of delta.range(0, Number.MAX_SAFE_INTEGER)) for (const e of b.edges) records.push(encodeRecord(b.sec, e));
    for (const c of chunk(records)) {
      this.stats.chunksSent++;
      this.stats.bytesSent += Buffer.byteLength(c);
      this.send(c);
    }
    this.stats.recordsSent += records.length;
  }

  start(): void {
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The delta: a small store of its own (exact merge per edge key and second), thrown away at each flush. */
function newDelta(): TelemetryStore {
  return new TelemetryStore({ retentionSeconds: 300, fineSeconds: 300 });
}

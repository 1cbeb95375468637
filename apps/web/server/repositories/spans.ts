/** Stored spans: batched inserts, trace search (newest or slowest first, cursor-paginated), retention. */
import type { Span } from "@trellis/protocol";
import type { WaterfallSpan } from "../../shared/waterfall.ts";
import type { Db } from "../db.ts";

/** A span as stored and served: the waterfall's span shape plus its trace id and a required version. */
export type StoredSpan = WaterfallSpan & { traceId: string; version: string };

export interface TraceSearch {
  /** Spans recorded by this service's agent (client or server side). */
  service?: string;
  /** With `service`: only its calls to this peer (the edge service → peer). */
  peer?: string;
  errorsOnly?: boolean;
  minDurationMs?: number;
  /** Unix ms bounds on the span start. */
  fromMs?: number;
  toMs?: number;
  sort?: "recent" | "slowest";
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

export interface TraceSummary {
  traceId: string;
  /** The matching span that put the trace on this page. */
  matched: {
    spanId: string;
    service: string;
    peerService: string | null;
    kind: string;
    name: string;
    status: number;
    error: string | null;
    durationMs: number;
  };
  startUnixMs: number;
  /** Whole trace (as stored): first start to last end. */
  durationMs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
  rootName: string;
}

export interface TracePage {
  traces: TraceSummary[];
  nextCursor: string | null;
}

function parseJson<T>(s: string, fallback: T): T {
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

type SpanRow = {
  id: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: string;
  service: string;
  version: string;
  peerService: string | null;
  name: string;
  startUnixMs: number;
  durationMs: number;
  status: number;
  error: string | null;
  attributes: string;
  events: string;
};

export function toStoredSpan(r: SpanRow): StoredSpan {
  return {
    traceId: r.traceId,
    spanId: r.spanId,
    parentSpanId: r.parentSpanId,
    kind: r.kind,
    service: r.service,
    version: r.version,
    peerService: r.peerService,
    name: r.name,
    startUnixMs: r.startUnixMs,
    durationMs: r.durationMs,
    status: r.status,
    error: r.error,
    attributes: parseJson(r.attributes, {}),
    events: parseJson(r.events, []),
  };
}

export class SpanRepository {
  constructor(private readonly db: Db) {}

  async insertMany(spans: Span[]): Promise<number> {
    if (spans.length === 0) return 0;
    const res = await this.db.span.createMany({
      data: spans.map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? null,
        kind: s.kind,
        service: s.service,
        version: s.version,
        peerService: s.peerService ?? null,
        name: s.name,
        startTime: new Date(Math.floor(s.startTimeUnixMs)),
        startUnixMs: s.startTimeUnixMs,
        durationMs: s.durationMs,
        status: s.status,
        error: s.error ?? null,
        attributes: JSON.stringify(s.attributes ?? {}),
        events: JSON.stringify(s.events ?? []),
      })),
    });
    return res.count;
  }

  count(): Promise<number> {
    return this.db.span.count();
  }

  /** Deletes spans older than `maxAgeMs`, then the oldest beyond `maxCount`. Returns how many went. */
  async prune(maxCount: number, maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = (await this.db.span.deleteMany({ where: { startTime: { lt: new Date(now - maxAgeMs) } } })).count;
    const total = await this.db.span.count();
    if (total > maxCount) {
      // The newest `maxCount` stay: everything at or below the id of the first one beyond them goes (ids grow with
      // arrival; among equal arrival the newest start stays).
      const edge = await this.db.span.findMany({
        orderBy: [{ startTime: "desc" }, { id: "desc" }],
        skip: maxCount,
        take: 1,
        select: { startTime: true, id: true },
      });
      if (edge.length > 0) {
        const e = edge[0];
        removed += (
          await this.db.span.deleteMany({
            where: { OR: [{ startTime: { lt: e.startTime } }, { startTime: e.startTime, id: { lte: e.id } }] },
          })
        ).count;
      }
    }
    return removed;
  }

  async trace(traceId: string): Promise<StoredSpan[]> {
    const rows = await this.db.span.findMany({ where: { traceId }, orderBy: [{ startUnixMs: "asc" }, { id: "asc" }], take: 2000 });
    return rows.map(toStoredSpan);
  }

  /** Traces with a span matching the filter, newest (or slowest) matching span first, one row per trace. */
  async search(q: TraceSearch): Promise<TracePage> {
    const limit = Math.min(Math.max(q.limit ?? 25, 1), 100);
    const sort = q.sort ?? "recent";
    const where: Record<string, unknown> = {};
    if (q.service) where.service = q.service;
    if (q.peer) {
      where.peerService = q.peer;
      if (q.service) where.kind = "client";
    }
    if (q.errorsOnly) where.error = { not: null };
    const start: Record<string, Date> = {};
    if (q.fromMs !== undefined) start.gte = new Date(q.fromMs);
    if (q.toMs !== undefined) start.lte = new Date(q.toMs);
    if (Object.keys(start).length) where.startTime = start;
    const dur: Record<string, number> = {};
    if (q.minDurationMs !== undefined && q.minDurationMs > 0) dur.gte = q.minDurationMs;
    // Cursor: "<sortValue>:<id>" of the last row of the previous page.
    let cursorClause: Record<string, unknown> | null = null;
    if (q.cursor) {
      const [v, idRaw] = q.cursor.split(":");
      const id = Number(idRaw);
      const value = Number(v);
      if (Number.isFinite(id) && Number.isFinite(value)) {
        cursorClause =
          sort === "recent"
            ? { OR: [{ startUnixMs: { lt: value } }, { startUnixMs: value, id: { lt: id } }] }
            : { OR: [{ durationMs: { lt: value } }, { durationMs: value, id: { lt: id } }] };
      }
    }
    if (Object.keys(dur).length) where.durationMs = dur;
    const finalWhere = cursorClause ? { AND: [where, cursorClause] } : where;
    const orderBy =
      sort === "recent" ? [{ startUnixMs: "desc" as const }, { id: "desc" as const }] : [{ durationMs: "desc" as const }, { id: "desc" as const }];
    const seen = new Map<string, SpanRow>();
    let lastRow: SpanRow | null = null;
    let exhausted = false;
    // Several spans of one trace can match: read in chunks until `limit` distinct traces (bounded).
    let after: Record<string, unknown> | null = null;
    for (let round = 0; round < 5 && seen.size < limit; round++) {
      const w: Record<string, unknown> = after ? { AND: [finalWhere, after] } : finalWhere;
      const rows = (await this.db.span.findMany({ where: w as never, orderBy, take: limit * 4 })) as SpanRow[];
      for (const r of rows) {
        if (seen.size >= limit) break;
        lastRow = r;
        if (!seen.has(r.traceId)) seen.set(r.traceId, r);
      }
      if (rows.length < limit * 4) {
        exhausted = seen.size < limit || rows.at(-1) === lastRow;
        break;
      }
      const tail = rows.at(-1)!;
      after =
        sort === "recent"
          ? { OR: [{ startUnixMs: { lt: tail.startUnixMs } }, { startUnixMs: tail.startUnixMs, id: { lt: tail.id } }] }
          : { OR: [{ durationMs: { lt: tail.durationMs } }, { durationMs: tail.durationMs, id: { lt: tail.id } }] };
    }
    const ids = [...seen.keys()];
    const all = ids.length
      ? await this.db.span.findMany({
          where: { traceId: { in: ids } },
          select: { traceId: true, spanId: true, parentSpanId: true, service: true, name: true, startUnixMs: true, durationMs: true, error: true },
        })
      : [];
    const byTrace = new Map<string, typeof all>();
    for (const s of all) {
      const l = byTrace.get(s.traceId);
      if (l) l.push(s);
      else byTrace.set(s.traceId, [s]);
    }
    const traces: TraceSummary[] = ids.map((id) => {
      const m = seen.get(id)!;
      const spans = byTrace.get(id) ?? [];
      const start = Math.min(...spans.map((s) => s.startUnixMs), m.startUnixMs);
      const end = Math.max(...spans.map((s) => s.startUnixMs + s.durationMs), m.startUnixMs + m.durationMs);
      const spanIds = new Set(spans.map((s) => s.spanId));
      const root = [...spans].sort((a, b) => a.startUnixMs - b.startUnixMs).find((s) => !s.parentSpanId || !spanIds.has(s.parentSpanId)) ?? m;
      return {
        traceId: id,
        matched: {
          spanId: m.spanId,
          service: m.service,
          peerService: m.peerService,
          kind: m.kind,
          name: m.name,
          status: m.status,
          error: m.error,
          durationMs: m.durationMs,
        },
        startUnixMs: start,
        durationMs: Math.round((end - start) * 1000) / 1000,
        spanCount: spans.length,
        errorCount: spans.filter((s) => s.error !== null).length,
        services: [...new Set(spans.map((s) => s.service))].sort(),
        rootName: `${root.service}: ${root.name}`,
      };
    });
    const nextCursor =
      !exhausted && lastRow && traces.length >= limit ? `${sort === "recent" ? lastRow.startUnixMs : lastRow.durationMs}:${lastRow.id}` : null;
    return { traces, nextCursor };
  }
}

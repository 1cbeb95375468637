/**
 * Pure view-model of a trace waterfall: spans → rows in tree order (parent before children, siblings by start), each
 * with its depth and its bar as a fraction of the trace's time span, errors flagged, attempts as sub-bars.
 */

export interface WaterfallSpan {
  spanId: string;
  parentSpanId: string | null;
  kind: string;
  service: string;
  version?: string;
  peerService: string | null;
  name: string;
  startUnixMs: number;
  durationMs: number;
  status: number;
  error: string | null;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; timeUnixMs: number; attributes: Record<string, string | number | boolean> }[];
}

export interface AttemptBar {
  attempt: number;
  /** Fractions of the trace duration, 0..1. */
  left: number;
  width: number;
  durationMs: number;
  endpoint: string;
  outcome: string;
  failed: boolean;
}

export interface WaterfallRow {
  span: WaterfallSpan;
  depth: number;
  /** Offset from the trace start, ms. */
  offsetMs: number;
  left: number;
  width: number;
  isError: boolean;
  /** Parent not in the trace (a hop whose caller's span was not kept). */
  orphan: boolean;
  attempts: AttemptBar[];
  label: string;
}

export interface Waterfall {
  traceStartMs: number;
  durationMs: number;
  rows: WaterfallRow[];
  services: string[];
  errorCount: number;
  retriedSpans: number;
}

export function buildWaterfall(spans: WaterfallSpan[]): Waterfall {
  if (spans.length === 0) return { traceStartMs: 0, durationMs: 0, rows: [], services: [], errorCount: 0, retriedSpans: 0 };
  const start = Math.min(...spans.map((s) => s.startUnixMs));
  const end = Math.max(...spans.map((s) => s.startUnixMs + s.durationMs));
  const total = Math.max(end - start, 0.001);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | null, WaterfallSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId ? s.parentSpanId : null;
    const l = children.get(parent);
    if (l) l.push(s);
    else children.set(parent, [s]);
  }
  for (const l of children.values()) l.sort((a, b) => a.startUnixMs - b.startUnixMs || (a.kind === "client" ? -1 : 1));
  const rows: WaterfallRow[] = [];
  const visited = new Set<string>();
  const visit = (s: WaterfallSpan, depth: number) => {
    if (visited.has(s.spanId)) return;
    visited.add(s.spanId);
    const attempts: AttemptBar[] = s.events
      .filter((e) => e.name === "attempt")
      .map((e, i) => {
        const d = Number(e.attributes.durationMs ?? 0);
        const err = e.attributes.error;
        return {
          attempt: Number(e.attributes.attempt ?? i + 1),
          left: clamp01((e.timeUnixMs - start) / total),
          width: clamp01(d / total),
          durationMs: d,
          endpoint: String(e.attributes.endpoint ?? "?"),
          outcome: err !== undefined ? String(err) : String(e.attributes.status ?? ""),
          failed: err !== undefined || Number(e.attributes.status ?? 0) >= 500,
        };
      });
    rows.push({
      span: s,
      depth,
      offsetMs: round3(s.startUnixMs - start),
      left: clamp01((s.startUnixMs - start) / total),
      width: Math.max(clamp01(s.durationMs / total), 0.002),
      isError: s.error !== null || s.status >= 500,
      orphan: !!s.parentSpanId && !ids.has(s.parentSpanId),
      attempts,
      label: s.kind === "client" ? `${s.service} → ${s.peerService ?? "?"}` : `${s.service}${s.peerService ? ` ← ${s.peerService}` : ""}`,
    });
    for (const c of children.get(s.spanId) ?? []) visit(c, depth + 1);
  };
  for (const root of children.get(null) ?? []) visit(root, 0);
  // Cycles or duplicates (malformed input) still show, at the top level.
  for (const s of spans) if (!visited.has(s.spanId)) visit(s, 0);
  return {
    traceStartMs: start,
    durationMs: round3(total),
    rows,
    services: [...new Set(spans.map((s) => s.service))].sort(),
    errorCount: rows.filter((r) => r.isError).length,
    retriedSpans: rows.filter((r) => r.attempts.length > 1).length,
  };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : Math.min(v, 1);
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

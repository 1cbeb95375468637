/**
 * B3 trace context (Zipkin), read when a request carries no usable `traceparent`, and rewritten for the next hop.
 *
 * - single: `b3: {traceId}-{spanId}[-{sampled}[-{parentSpanId}]]` (sampled `1`, `0` or `d` = debug) — a lone `0`/`1`/`d`
 *   is a sampling decision without context, which starts a new trace with that decision;
 * - multi: `x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled` (`1`/`0`/`true`/`false`), `x-b3-flags`
 *   (`1` = debug, i.e. sampled).
 *
 * 64-bit trace ids are left-padded with zeros to 128 bits, as Zipkin does. No sampling flag → the hop decides.
 */

/** Where the B3 headers sit in a flat raw header array ([name, value, …]); -1 when absent. */
export class B3Headers {
  single = -1;
  traceId = -1;
  spanId = -1;
  parentSpanId = -1;
  sampled = -1;
  flags = -1;

  /** Records `name` (at index `i` of the flat array) if it is a B3 header; `lower` is its lower-cased name. */
  see(lower: string, i: number): void {
    if (lower === "b3") this.single = i + 1;
    else if (lower === "x-b3-traceid") this.traceId = i + 1;
    else if (lower === "x-b3-spanid") this.spanId = i + 1;
    else if (lower === "x-b3-parentspanid") this.parentSpanId = i + 1;
    else if (lower === "x-b3-sampled") this.sampled = i + 1;
    else if (lower === "x-b3-flags") this.flags = i + 1;
  }
}

export interface B3Context {
  /** 32 hex (64-bit ids padded). */
  traceId: string;
  /** The width the caller used (16 or 32), kept for the B3 headers sent on. */
  traceIdWidth: 16 | 32;
  /** The caller's span id: this hop's parent. */
  spanId: string;
  /** null: no decision, the hop samples. */
  sampled: boolean | null;
}

const ID64 = /^[0-9a-f]{16}$/;
const TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const PAD = "0000000000000000";

function context(traceId: string, spanId: string, sampled: boolean | null): B3Context | null {
  const t = traceId.toLowerCase();
  const s = spanId.toLowerCase();
  if (!TRACE_ID.test(t) || !ID64.test(s) || /^0+$/.test(t) || s === PAD) return null;
  return t.length === 16 ? { traceId: PAD + t, traceIdWidth: 16, spanId: s, sampled } : { traceId: t, traceIdWidth: 32, spanId: s, sampled };
}

function singleSampled(v: string | undefined): boolean | null | undefined {
  if (v === undefined) return null;
  if (v === "1" || v === "d") return true;
  if (v === "0") return false;
  return undefined; // malformed
}

/** The trace context B3 headers carry, or null (absent or malformed). A lone sampling flag gives a context-less decision. */
export function readB3(h: string[], at: B3Headers): B3Context | { sampled: boolean } | null {
  if (at.single >= 0) {
    const parts = h[at.single].trim().split("-");
    if (parts.length === 1) {
      const d = singleSampled(parts[0]);
      return d === undefined || d === null ? null : { sampled: d };
    }
    const sampled = singleSampled(parts[2]);
    if (parts.length > 4 || sampled === undefined) return null;
    return context(parts[0], parts[1], sampled);
  }
  let sampled: boolean | null = at.sampled >= 0 ? multiSampled(h[at.sampled]) : null;
  if (at.flags >= 0 && h[at.flags].trim() === "1") sampled = true;
  if (at.traceId >= 0 && at.spanId >= 0) return context(h[at.traceId].trim(), h[at.spanId].trim(), sampled);
  return sampled === null ? null : { sampled };
}

function multiSampled(v: string): boolean | null {
  const s = v.trim().toLowerCase();
  if (s === "1" || s === "true" || s === "d") return true;
  if (s === "0" || s === "false") return false;
  return null;
}

/**
 * Rewrites the B3 headers the request came with so the next hop's parent is this hop's span (`spanId`), with the
 * caller's span as parent and the decision made. Only the style(s) present are written.
 */
export function writeB3(h: string[], at: B3Headers, ctx: B3Context, spanId: string, sampled: boolean): void {
  const traceId = ctx.traceIdWidth === 16 ? ctx.traceId.slice(16) : ctx.traceId;
  const flag = sampled ? "1" : "0";
  if (at.single >= 0) h[at.single] = `${traceId}-${spanId}-${flag}-${ctx.spanId}`;
  if (at.traceId < 0 || at.spanId < 0) return;
  h[at.spanId] = spanId;
  if (at.parentSpanId >= 0) h[at.parentSpanId] = ctx.spanId;
  else h.push("x-b3-parentspanid", ctx.spanId);
  if (at.sampled >= 0) h[at.sampled] = flag;
  else if (at.flags < 0) h.push("x-b3-sampled", flag);
}

/**
 * Request tracing (W3C trace context). Per request the agent keeps only a few strings and numbers on the exchange:
 *
 * - `begin` (observe layer, first thing in each stack): continues the incoming `traceparent` (trace id, parent span
 *   id, sampled flag) or starts a trace and makes the head-sampling decision there; gives this hop a span id and
 *   rewrites (or adds) `traceparent` on the forwarded request so the next hop's parent is this span. Without a
 *   `traceparent`, B3 headers (b3.ts) are the context and are rewritten too; otherwise `tracestate` and B3 pass through.
 * - `end` (observe layer, on completion): a span object is built only if the request is kept — head-sampled, or by
 *   the tail rule: an error (5xx, proxy-made failure) or slower than the service's threshold. Unkept requests cost
 *   a header scan, two ids and one string.
 *
 * Kept spans wait in a bounded buffer (oldest dropped when full, e.g. while the console is away) until the telemetry
 * reporter ships them in the next `telemetry` frame.
 */
import { randomFillSync } from "node:crypto";
import type { Span, SpanEvent, TelemetrySettings } from "@trellis/protocol";
import type { Exchange } from "../proxy/exchange.ts";
import { B3Headers, readB3, writeB3 } from "./b3.ts";
import { TraceContext } from "./trace-context.ts";

export type SpanKind = "client" | "server";

const TRACEPARENT = "traceparent";
const HEX_RE = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";
/** performance.now() → unix ms, without a Date per request. */
const ORIGIN = performance.timeOrigin;

/** Random hex ids from a refilled pool: one crypto call per 256 ids. */
export class IdSource {
  private readonly buf = Buffer.allocUnsafe(4096);
  private off = 4096;

  hex(bytes: number): string {
    if (this.off + bytes > this.buf.length) {
      randomFillSync(this.buf);
      this.off = 0;
    }
    const s = this.buf.toString("hex", this.off, this.off + bytes);
    this.off += bytes;
    return s;
  }
}

export interface TracerOptions {
  /** Spans held for the next frames; past it the oldest are dropped. */
  maxBuffered?: number;
}

export class Tracer {
  sampleRate = 0.01;
  slowThresholdMs = 1000;
  private slowBy = new Map<string, number>();
  private buf: Span[] = [];
  private readonly maxBuffered: number;
  readonly ids = new IdSource();
  /** Counters (for tests and /metrics). */
  kept = 0;
  dropped = 0;

  constructor(
    readonly service: string,
    readonly version: string,
    opts: TracerOptions = {},
  ) {
    this.maxBuffered = opts.maxBuffered ?? 4096;
  }

  configure(s: Pick<TelemetrySettings, "sampleRate" | "slowThresholdMs" | "slowThresholdMsByService">): void {
    this.sampleRate = s.sampleRate;
    this.slowThresholdMs = s.slowThresholdMs;
    this.slowBy = new Map(Object.entries(s.slowThresholdMsByService ?? {}));
  }

  slowFor(service: string): number {
    const v = this.slowBy.get(service);
    return v === undefined ? this.slowThresholdMs : v;
  }

  /**
   * Continues or starts the trace for this hop and points the forwarded `traceparent` at this hop's span. Without a
   * usable `traceparent`, B3 headers (single or multi) give the context, and are rewritten for the next hop too.
   */
  begin(ex: Exchange): void {
    const h = ex.headers;
    let idx = -1;
    let b3: B3Headers | null = null;
    for (let i = 0; i < h.length; i += 2) {
      const n = h[i];
      const len = n.length;
      if (len === 11 && idx < 0 && n.toLowerCase() === TRACEPARENT) idx = i + 1;
      else if (len === 2 || (len >= 10 && len <= 17 && n.charCodeAt(1) === 45 && n.charCodeAt(4) === 45)) {
        const lower = n.toLowerCase();
        if (lower === "b3" || lower.startsWith("x-b3-")) {
          if (b3 === null) b3 = new B3Headers();
          b3.see(lower, i);
        }
      }
    }
    let m: RegExpExecArray | null = null;
    if (idx >= 0) {
      const v = h[idx];
      m = v.length >= 55 && !v.startsWith("ff") ? HEX_RE.exec(v) : null;
      if (m !== null && (m[1] === ZERO_TRACE || m[2] === ZERO_SPAN)) m = null;
    }
    const spanId = this.ids.hex(8);
    let tc: TraceContext;
    if (m !== null) tc = new TraceContext(m[1], m[2], spanId, (Number.parseInt(m[3], 16) & 1) === 1);
    else {
      const fromB3 = b3 !== null ? readB3(h, b3) : null;
      const sampled = fromB3?.sampled ?? (this.sampleRate > 0 && Math.random() < this.sampleRate);
      if (fromB3 !== null && "traceId" in fromB3) {
        tc = new TraceContext(fromB3.traceId, fromB3.spanId, spanId, sampled);
        writeB3(h, b3!, fromB3, spanId, sampled);
      } else tc = new TraceContext(this.ids.hex(16), "", spanId, sampled);
    }
    ex.trace = tc;
    const tp = `00-${tc.traceId}-${spanId}${tc.sampled ? "-01" : "-00"}`;
    if (idx >= 0) h[idx] = tp;
    else h.push(TRACEPARENT, tp);
  }

  /** Records the hop's span if it is kept (head-sampled, failed, or slow). */
  end(ex: Exchange, kind: SpanKind, durationMs: number): void {
    const tc = ex.trace;
    if (tc === null) return;
    const status = ex.status;
    const failed = ex.failed || status >= 500 || ex.error !== null;
    let reason: string;
    if (tc.sampled) reason = "sampled";
    else if (failed) reason = "error";
    else if (durationMs >= this.slowFor(kind === "client" ? ex.service : this.service)) reason = "slow";
    else return;
    this.push(this.build(ex, tc, kind, durationMs, reason, failed));
  }

  private build(ex: Exchange, tc: TraceContext, kind: SpanKind, durationMs: number, reason: string, failed: boolean): Span {
    const startUnix = ORIGIN + ex.start;
    const path = ex.path;
    const q = path.indexOf("?");
    const target = (q >= 0 ? path.slice(0, q) : path).slice(0, 200);
    const method = ex.req.method ?? "GET";
    const attrs: Record<string, string | number | boolean> = {
      "http.method": method,
      "http.target": target,
      "http.status_code": ex.status,
      "trellis.kept": reason,
      "trellis.mtls": ex.mtls,
    };
    if (ex.peer !== null) attrs["trellis.peer_identity"] = ex.peer;
    if (ex.error !== null) attrs["trellis.error"] = ex.error.proxyError;
    // gRPC: the outcome is the status in the trailers (OpenTelemetry's attribute name), not the HTTP 200.
    if (ex.grpcStatus >= 0) attrs["rpc.grpc.status_code"] = ex.grpcStatus;
    let peer: string;
    if (kind === "client") {
      peer = ex.service || "unknown";
      attrs["trellis.route"] = ex.route !== null ? ex.route.name : ex.service;
      if (ex.subset !== null) attrs["trellis.subset"] = ex.subset.version ?? "*";
      if (ex.target !== null) {
        attrs["trellis.destination_version"] = ex.target.version;
        attrs["trellis.endpoint"] = ex.target.ep.address;
      }
      attrs["trellis.attempts"] = ex.dispatches;
      attrs["trellis.retries"] = ex.dispatches > 1 ? ex.dispatches - 1 : 0;
    } else {
      const src = ex.source;
      peer = src === null ? "ingress" : src.split("/")[0] || "unknown";
      if (src !== null) attrs["trellis.source"] = src;
      attrs["trellis.route"] = "inbound";
      attrs["trellis.attempts"] = ex.dispatches;
    }
    const events: SpanEvent[] = [];
    const log = ex.attemptLog;
    let n = 0;
    if (log !== null) for (const a of log) events.push(attemptEvent(++n, a.start, a.end, a.endpoint, a.version, a.status, a.error));
    if (ex.dispatches > 0) {
      const endpoint = kind === "client" ? (ex.target?.ep.address ?? "?") : "app";
      const version = kind === "client" ? (ex.target?.version ?? "") : this.version;
      events.push(attemptEvent(++n, ex.dispatchAt, ex.start + durationMs, endpoint, version, ex.status, ex.error?.proxyError ?? null));
    }
    const span: Span = {
      traceId: tc.traceId,
      spanId: tc.spanId,
      kind,
      service: this.service,
      version: this.version,
      peerService: peer,
      name: `${method} ${kind === "client" ? ex.service || "?" : ""}${target}`.slice(0, 256),
      startTimeUnixMs: Math.round(startUnix * 1000) / 1000,
      durationMs: Math.round(durationMs * 1000) / 1000,
      status: ex.status,
      attributes: attrs,
      events,
    };
    if (tc.parentSpanId !== "") span.parentSpanId = tc.parentSpanId;
    if (failed) span.error = ex.error !== null ? ex.error.proxyError : ex.grpcStatus > 0 ? `grpc-${ex.grpcStatus}` : `http-${ex.status}`;
    return span;
  }

  private push(span: Span): void {
    this.kept++;
    if (this.buf.length >= this.maxBuffered) {
      this.buf.shift();
      this.dropped++;
    }
    this.buf.push(span);
  }

  /** Takes up to `max` buffered spans (oldest first) for a frame. */
  take(max = 1000): Span[] {
    if (this.buf.length <= max) {
      const out = this.buf;
      this.buf = [];
      return out;
    }
    return this.buf.splice(0, max);
  }

  /** Puts spans back after a frame could not be sent (the link is down); the oldest go first when full. */
  putBack(spans: Span[]): void {
    if (spans.length === 0) return;
    const all = spans.concat(this.buf);
    const over = all.length - this.maxBuffered;
    if (over > 0) {
      all.splice(0, over);
      this.dropped += over;
    }
    this.buf = all;
  }

  get buffered(): number {
    return this.buf.length;
  }
}

function attemptEvent(n: number, start: number, end: number, endpoint: string, version: string, status: number, error: string | null): SpanEvent {
  const attributes: Record<string, string | number | boolean> = {
    attempt: n,
    endpoint,
    durationMs: Math.round((end - start) * 1000) / 1000,
  };
  if (version) attributes.version = version;
  if (error !== null) attributes.error = error;
  else attributes.status = status;
  return { name: "attempt", timeUnixMs: Math.round((ORIGIN + start) * 1000) / 1000, attributes };
}

/**
 * Zipkin v2 span export (JSON, `POST <endpoint>/api/v2/spans`) to a Zipkin server or any collector that speaks it
 * (Jaeger, the OpenTelemetry collector's zipkin receiver). Enabled by TRELLIS_ZIPKIN_ENDPOINT (e.g.
 * http://127.0.0.1:9411); extra headers with TRELLIS_ZIPKIN_HEADERS="k=v,k2=v2". Sent by the same HttpSpanExporter
 * (batching, bounded backlog) as OTLP.
 */
import type { Span } from "@trellis/protocol";
import { type HttpExporterOptions, parseHeaderList, type SpanEncoding } from "./batch-export.ts";

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: "CLIENT" | "SERVER";
  /** Epoch microseconds. */
  timestamp: number;
  /** Microseconds, at least 1. */
  duration: number;
  localEndpoint: { serviceName: string };
  remoteEndpoint?: { serviceName: string };
  tags: Record<string, string>;
  annotations?: { timestamp: number; value: string }[];
}

const micros = (ms: number): number => Math.round(ms * 1000);

export function toZipkinSpan(s: Span): ZipkinSpan {
  const tags: Record<string, string> = { "trellis.version": s.version };
  for (const [k, v] of Object.entries(s.attributes)) tags[k] = String(v);
  if (s.error) tags.error = s.error;
  const out: ZipkinSpan = {
    traceId: s.traceId,
    id: s.spanId,
    name: s.name.toLowerCase(),
    kind: s.kind === "server" ? "SERVER" : "CLIENT",
    timestamp: micros(s.startTimeUnixMs),
    duration: Math.max(1, micros(s.durationMs)),
    localEndpoint: { serviceName: s.service },
    tags,
  };
  if (s.parentSpanId) out.parentId = s.parentSpanId;
  if (s.peerService) out.remoteEndpoint = { serviceName: s.peerService };
  const events = s.events ?? [];
  if (events.length > 0) {
    out.annotations = events.map((e) => {
      const attrs = Object.entries(e.attributes ?? {}).map(([k, v]) => `${k}=${v}`);
      return { timestamp: micros(e.timeUnixMs), value: attrs.length > 0 ? `${e.name} ${attrs.join(" ")}` : e.name };
    });
  }
  return out;
}

/** Zipkin v2 JSON: `POST <endpoint>/api/v2/spans`, a JSON array of spans. */
export const zipkinEncoding: SpanEncoding = {
  name: "Zipkin",
  url(endpoint) {
    const base = endpoint.replace(/\/+$/, "");
    return base.endsWith("/api/v2/spans") ? base : `${base}/api/v2/spans`;
  },
  encode: (spans) => spans.map(toZipkinSpan),
};

export function zipkinOptionsFromEnv(env: Record<string, string | undefined> = process.env): HttpExporterOptions | null {
  const endpoint = env.TRELLIS_ZIPKIN_ENDPOINT;
  if (!endpoint) return null;
  return { endpoint, headers: parseHeaderList(env.TRELLIS_ZIPKIN_HEADERS) };
}

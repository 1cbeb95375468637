/**
 * OTLP/HTTP span export (JSON encoding, `POST <endpoint>/v1/traces`, content-type application/json) to any
 * OpenTelemetry collector. Enabled by TRELLIS_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318); extra headers with
 * TRELLIS_OTLP_HEADERS="k=v,k2=v2". Sent by the shared HttpSpanExporter (batch-export.ts).
 */
import type { Span } from "@trellis/protocol";
import { type HttpExporterOptions, parseHeaderList, type SpanEncoding } from "./batch-export.ts";

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
type KeyValue = { key: string; value: AnyValue };

function anyValue(v: string | number | boolean): AnyValue {
  if (typeof v === "boolean") return { boolValue: v };
  if (typeof v === "number") return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: v };
}

function kvs(obj: Record<string, string | number | boolean>): KeyValue[] {
  return Object.entries(obj).map(([key, v]) => ({ key, value: anyValue(v) }));
}

function nanos(ms: number): string {
  // Unix ms (with a fraction) → integer nanoseconds as a decimal string (beyond 2^53: use BigInt).
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

const SPAN_KIND = { server: 2, client: 3 } as const;

/** OTLP ExportTraceServiceRequest (JSON mapping) for spans, one resource per service@version. */
export function toOtlpJson(spans: Span[]): unknown {
  const byResource = new Map<string, Span[]>();
  for (const s of spans) {
    const k = `${s.service}\u0000${s.version}`;
    let l = byResource.get(k);
    if (!l) {
      l = [];
      byResource.set(k, l);
    }
    l.push(s);
  }
  return {
    resourceSpans: [...byResource.values()].map((list) => ({
      resource: {
        attributes: kvs({ "service.name": list[0].service, "service.version": list[0].version, "service.namespace": "trellis" }),
      },
      scopeSpans: [
        {
          scope: { name: "trellis-agent", version: "1" },
          spans: list.map((s) => {
            const attributes: Record<string, string | number | boolean> = { ...s.attributes };
            if (s.peerService) attributes["peer.service"] = s.peerService;
            if (s.error) attributes["trellis.error"] = attributes["trellis.error"] ?? s.error;
            return {
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: SPAN_KIND[s.kind],
              startTimeUnixNano: nanos(s.startTimeUnixMs),
              endTimeUnixNano: nanos(s.startTimeUnixMs + s.durationMs),
              attributes: kvs(attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: nanos(e.timeUnixMs), attributes: kvs(e.attributes ?? {}) })),
              // STATUS_CODE_ERROR = 2, UNSET = 0
              status: s.error ? { code: 2, message: s.error } : { code: 0 },
            };
          }),
        },
      ],
    })),
  };
}

/** OTLP/HTTP JSON: `POST <endpoint>/v1/traces`. */
export const otlpEncoding: SpanEncoding = {
  name: "OTLP",
  url(endpoint) {
    const base = endpoint.replace(/\/+$/, "");
    return base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
  },
  encode: toOtlpJson,
};

export function otlpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpExporterOptions | null {
  const endpoint = env.TRELLIS_OTLP_ENDPOINT;
  if (!endpoint) return null;
  return { endpoint, headers: parseHeaderList(env.TRELLIS_OTLP_HEADERS) };
}

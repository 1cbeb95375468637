/**
 * OTLP/HTTP span export (JSON encoding, `POST <endpoint>/v1/traces`, content-type application/json) to any
 * OpenTelemetry collector. Enabled by TRELLIS_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318); extra headers with
 * TRELLIS_OTLP_HEADERS="k=v,k2=v2". Batches are sent one at a time with a bounded backlog; failures are logged and
 * the batch dropped (a collector outage never grows memory).
 */
import type { Span } from "@trellis/protocol";
import type { Logger } from "../log.ts";

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

export interface OtlpExporterOptions {
  endpoint: string;
  headers?: Record<string, string>;
  maxBacklog?: number;
  timeoutMs?: number;
}

export function otlpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OtlpExporterOptions | null {
  const endpoint = env.TRELLIS_OTLP_ENDPOINT;
  if (!endpoint) return null;
  const headers: Record<string, string> = {};
  for (const part of (env.TRELLIS_OTLP_HEADERS ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i > 0) headers[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return { endpoint, headers };
}

export class OtlpExporter {
  private readonly url: string;
  private backlog: Span[][] = [];
  private sending = false;
  sentSpans = 0;
  failedBatches = 0;

  constructor(
    private readonly opts: OtlpExporterOptions,
    private readonly log: Logger,
  ) {
    const base = opts.endpoint.replace(/\/+$/, "");
    this.url = base.endsWith("/v1/traces") ? base : `${base}/v1/traces`;
  }

  readonly export = (spans: Span[]): void => {
    if (spans.length === 0) return;
    this.backlog.push(spans);
    if (this.backlog.length > (this.opts.maxBacklog ?? 50)) this.backlog.shift();
    void this.pump();
  };

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.backlog.length > 0) {
        const batch = this.backlog.shift()!;
        try {
          const res = await fetch(this.url, {
            method: "POST",
            headers: { "content-type": "application/json", ...this.opts.headers },
            body: JSON.stringify(toOtlpJson(batch)),
            signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (!res.ok) throw new Error(`collector answered ${res.status}`);
          this.sentSpans += batch.length;
        } catch (err) {
          this.failedBatches++;
          this.log.warn("OTLP export failed; batch dropped", { url: this.url, spans: batch.length, error: (err as Error).message });
        }
      }
    } finally {
      this.sending = false;
    }
  }
}

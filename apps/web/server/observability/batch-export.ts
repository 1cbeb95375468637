/**
 * One span exporter over HTTP, shared by every wire format (OTLP/HTTP JSON, Zipkin v2 JSON): batches are POSTed one
 * at a time from a bounded backlog (the oldest batch is dropped when it is full); a failure is logged and the batch
 * dropped, so a collector outage never grows memory.
 */
import type { Span } from "@trellis/protocol";
import type { Logger } from "../log.ts";

export interface HttpExporterOptions {
  endpoint: string;
  headers?: Record<string, string>;
  maxBacklog?: number;
  timeoutMs?: number;
}

/** A wire format: where batches go (from the configured endpoint) and how a batch is encoded. */
export interface SpanEncoding {
  /** "OTLP", "Zipkin": for the logs. */
  name: string;
  url(endpoint: string): string;
  encode(spans: Span[]): unknown;
}

/** `k=v,k2=v2` → headers. */
export function parseHeaderList(list: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of (list ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i > 0) headers[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return headers;
}

export class HttpSpanExporter {
  readonly url: string;
  private backlog: Span[][] = [];
  private sending = false;
  sentSpans = 0;
  failedBatches = 0;

  constructor(
    private readonly encoding: SpanEncoding,
    private readonly opts: HttpExporterOptions,
    private readonly log: Logger,
  ) {
    this.url = encoding.url(opts.endpoint);
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
            body: JSON.stringify(this.encoding.encode(batch)),
            signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (!res.ok) throw new Error(`collector answered ${res.status}`);
          this.sentSpans += batch.length;
        } catch (err) {
          this.failedBatches++;
          this.log.warn(`${this.encoding.name} export failed; batch dropped`, {
            url: this.url,
            spans: batch.length,
            error: (err as Error).message,
          });
        }
      }
    } finally {
      this.sending = false;
    }
  }
}

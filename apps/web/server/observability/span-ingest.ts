/**
 * Span ingestion off the hub's frame handler: `enqueue` is synchronous and O(spans) (a push onto a bounded queue,
 * oldest dropped when full); a timer writes batches with createMany, and another enforces retention (count and age).
 * Exporters (OTLP) see every batch that was written.
 */
import type { Span } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import { type RunExclusively, runHere } from "../replicas/leases.ts";
import type { SpanRepository } from "../repositories/spans.ts";

export interface SpanIngestOptions {
  /** Spans waiting to be written; past it the oldest are dropped. */
  maxQueue: number;
  batchSize: number;
  flushIntervalMs: number;
  /** Retention: at most this many spans stored… */
  maxSpans: number;
  /** …none older than this. */
  maxAgeMs: number;
  pruneIntervalMs: number;
}

export function spanIngestOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SpanIngestOptions {
  const n = (name: string, def: number) => {
    const v = Number(env[name]);
    return env[name] !== undefined && env[name] !== "" && Number.isFinite(v) && v > 0 ? v : def;
  };
  return {
    maxQueue: n("TRELLIS_SPAN_QUEUE", 20_000),
    batchSize: n("TRELLIS_SPAN_BATCH", 500),
    flushIntervalMs: n("TRELLIS_SPAN_FLUSH_MS", 500),
    maxSpans: n("TRELLIS_SPAN_MAX_COUNT", 200_000),
    maxAgeMs: n("TRELLIS_SPAN_MAX_AGE_HOURS", 24) * 3600_000,
    pruneIntervalMs: n("TRELLIS_SPAN_PRUNE_MS", 30_000),
  };
}

export type SpanExporter = (spans: Span[]) => void;

export class SpanIngestor {
  private queue: Span[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private readonly exporters: SpanExporter[] = [];
  received = 0;
  written = 0;
  dropped = 0;
  pruned = 0;
  prunes = 0;

  constructor(
    private readonly repo: SpanRepository,
    readonly options: SpanIngestOptions,
    private readonly log: Logger,
    /** Replicas: retention runs on the holder of the `span-retention` lease only. */
    private readonly exclusive: RunExclusively = runHere,
  ) {}

  addExporter(fn: SpanExporter): void {
    this.exporters.push(fn);
  }

  start(): void {
    this.flushTimer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.pruneTimer = setInterval(() => void this.exclusive("span-retention", () => this.prune()), this.options.pruneIntervalMs);
  }

  /** Called from the frame handler: never awaits, never throws. */
  enqueue(spans: Span[]): void {
    if (spans.length === 0) return;
    this.received += spans.length;
    for (const s of spans) this.queue.push(s);
    const over = this.queue.length - this.options.maxQueue;
    if (over > 0) {
      this.queue.splice(0, over);
      this.dropped += over;
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Writes everything queued (in batches). One flush at a time. */
  flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.queue.length === 0) return Promise.resolve();
    this.writing = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.splice(0, this.options.batchSize);
          try {
            this.written += await this.repo.insertMany(batch);
          } catch (err) {
            this.dropped += batch.length;
            this.log.warn("writing spans failed; batch dropped", { count: batch.length, error: (err as Error).message });
            continue;
          }
          for (const e of this.exporters) e(batch);
        }
      } finally {
        this.writing = null;
      }
    })();
    return this.writing;
  }

  async prune(now = Date.now()): Promise<number> {
    try {
      await this.flush();
      const n = await this.repo.prune(this.options.maxSpans, this.options.maxAgeMs, now);
      this.pruned += n;
      this.prunes++;
      if (n > 0) this.log.debug("spans pruned", { count: n });
      return n;
    } catch (err) {
      this.log.warn("pruning spans failed", { error: (err as Error).message });
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.flush().catch(() => undefined);
  }

  stats() {
    return {
      received: this.received,
      written: this.written,
      dropped: this.dropped,
      queued: this.queue.length,
      pruned: this.pruned,
      prunes: this.prunes,
    };
  }
}

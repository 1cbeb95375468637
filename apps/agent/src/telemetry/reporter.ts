/**
 * Sends the telemetry window every `intervalMs` (from the snapshot, default 1 s) as a `telemetry` frame, then starts
 * a new window. When the control link is down the window is dropped: memory never grows with the outage. Kept spans
 * ride along (up to 1,000 per frame); while the link is down they wait in the tracer's bounded buffer.
 */
import type { TelemetryFrame } from "@trellis/protocol";
import type { DenialCounter } from "./denials.ts";
import type { EdgeRegistry } from "./edges.ts";
import type { Tracer } from "./tracing.ts";

export class TelemetryReporter {
  private timer: NodeJS.Timeout | null = null;
  private windowStart = Date.now();
  private intervalMs = 0;

  constructor(
    private readonly edges: EdgeRegistry,
    private readonly send: (frame: TelemetryFrame) => boolean,
    private readonly tracer: Tracer | null = null,
    private readonly denials: DenialCounter | null = null,
  ) {}

  start(intervalMs: number): void {
    if (intervalMs === this.intervalMs && this.timer !== null) return;
    this.stop();
    this.intervalMs = intervalMs;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ends the current window: sends it if the link is up, drops it otherwise. Returns whether it was sent. */
  flush(): boolean {
    const now = Date.now();
    const edges = this.edges.drain();
    const windowStart = this.windowStart;
    this.windowStart = now;
    // Spans are not dropped with the window: they stay buffered (bounded, oldest first out) until a frame goes out.
    const spans = this.tracer !== null ? this.tracer.take(1000) : [];
    const denials = this.denials?.drain() ?? [];
    const sent = this.send({ type: "telemetry", window: { windowStart, windowMs: Math.max(1, now - windowStart), edges, spans, denials } });
    if (!sent && this.tracer !== null) this.tracer.putBack(spans);
    return sent;
  }
}

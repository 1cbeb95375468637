/**
 * Sends the telemetry window every `intervalMs` (from the snapshot, default 1 s) as a `telemetry` frame, then starts
 * a new window. When the control link is down the window is dropped: memory never grows with the outage.
 */
import type { TelemetryFrame } from "@trellis/protocol";
import type { DenialCounter } from "./denials.ts";
import type { EdgeRegistry } from "./edges.ts";

export class TelemetryReporter {
  private timer: NodeJS.Timeout | null = null;
  private windowStart = Date.now();
  private intervalMs = 0;

  constructor(
    private readonly edges: EdgeRegistry,
    private readonly send: (frame: TelemetryFrame) => boolean,
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
    return this.send({ type: "telemetry", window: { windowStart, windowMs: Math.max(1, now - windowStart), edges, spans: [], denials: this.denials?.drain() ?? [] } });
  }
}

/**
 * A bench feeder for the graph page's /ws/live socket: frames in the real shape, computed by the console's own
 * LiveView + TelemetryStore (the classes the console process runs) from synthetic telemetry of N services with
 * ≈3 edges each. Used when joining N simulated agents to the real console would take too long (see BENCHMARKS.md).
 */
import { compactHistogram, type EdgeStats, emptyHistogram, observe, type TelemetryWindow } from "@trellis/protocol";
import { LiveView } from "../../apps/web/server/live-view.ts";
import { TelemetryStore } from "../../apps/web/server/telemetry-store.ts";

function windowFor(n: number, sec: number, seed: number): Pick<TelemetryWindow, "windowStart" | "edges"> & { windowMs: number } {
  const edges: EdgeStats[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      let dst = (i * 7 + k * 13 + 1) % n;
      if (dst === i) dst = (i + 1) % n;
      const requests = 10 + ((i * 31 + k * 17 + seed * 7) % 40);
      const errors = (i + seed) % 23 === 0 ? 1 + (seed % 3) : 0;
      const latency = emptyHistogram();
      for (let q = 0; q < 6; q++) observe(latency, 0.4 + ((i + q + seed) % 11) * 1.3);
      latency.counts[6] += requests - 6;
      edges.push({
        source: `svc-${i}`,
        sourceVersion: "v1",
        destination: `svc-${dst}`,
        destinationVersion: "v1",
        statusClass: errors ? "5xx" : "2xx",
        requests,
        errors,
        bytesIn: requests * 1024,
        bytesOut: requests * 100,
        mtls: (i % 2) * requests,
        latency: compactHistogram(latency),
      });
    }
  }
  return { windowStart: sec * 1000, windowMs: 1000, edges };
}

export class LiveFeeder {
  readonly store = new TelemetryStore();
  readonly view = new LiveView(this.store);
  private lastSec: number;

  /** `n` services, ≈3 edges each. */
  constructor(readonly n: number) {
    this.view.setRegistry(Array.from({ length: n }, (_, i) => ({ name: `svc-${i}`, versions: [{ version: "v1", instances: 1, connected: 1 }] })));
    const nowSec = Math.floor(Date.now() / 1000);
    for (let s = nowSec - 14; s < nowSec; s++) this.store.ingest(windowFor(n, s, (s * 7919) % 97), s * 1000 + 500);
    this.lastSec = nowSec - 1;
  }
  /** The frame for now: the second that just ended is ingested first, as agents' windows would have been. */
  frame(): string {
    const nowSec = Math.floor(Date.now() / 1000);
    for (let s = this.lastSec + 1; s < nowSec; s++) this.store.ingest(windowFor(this.n, s, s % 5), s * 1000 + 500);
    this.lastSec = Math.max(this.lastSec, nowSec - 1);
    return JSON.stringify(this.view.graph());
  }
}

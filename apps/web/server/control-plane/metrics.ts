/** What the control plane reports to the console's /metrics (server/metrics/console-metrics.ts); no-ops by default. */
export interface ControlPlaneMetrics {
  /** A push round ran (whether or not it cut a new version). */
  pushRound(): void;
  /** An agent acked the in-flight snapshot `latencyMs` after it was sent. */
  snapshotAcked(latencyMs: number): void;
  /** An agent nacked the in-flight snapshot. */
  snapshotNacked(): void;
  /** A telemetry frame arrived. */
  telemetryFrame(): void;
}

export const NO_METRICS: ControlPlaneMetrics = {
  pushRound() {},
  snapshotAcked() {},
  snapshotNacked() {},
  telemetryFrame() {},
};

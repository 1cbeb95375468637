/**
 * The console's own Prometheus metrics (`/metrics`, served by metrics/endpoint.ts), kept by prom-client: what the
 * control plane does (agents connected, push rounds, ACK latency, NACKs, telemetry frames), the live graph's browser
 * sockets, and database latency. Every series carries `replica` = this console's replica id, so the replicas that
 * share a database sum up in PromQL (`sum(trellis_console_agents_connected)`), and `rate()` of the counters gives the
 * per-second figures (`rate(trellis_console_telemetry_frames_total[1m])`).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ControlPlaneMetrics } from "../control-plane/metrics.ts";

/** Snapshot sent → its ACK: a push round reaches agents in milliseconds; a struggling agent takes seconds. */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
/** One Prisma operation (query or transaction step), as the repositories see it. */
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface ConsoleGauges {
  /** Agents whose control socket this replica holds. */
  agentsConnected: () => number;
  /** Browsers on /ws/live. */
  liveSockets: () => number;
  /** The config version this replica pushes. */
  configVersion: () => number;
}

export class ConsoleMetrics implements ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly rounds: Counter;
  private readonly ackLatency: Histogram;
  private readonly nacks: Counter;
  private readonly telemetryFrames: Counter;
  private readonly dbLatency: Histogram;
  private gauges: ConsoleGauges = { agentsConnected: () => 0, liveSockets: () => 0, configVersion: () => 0 };

  constructor(readonly replicaId: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ replica: replicaId });
    // Not prom-client's collectDefaultMetrics: three of its gauges end in _total, which promtool's lint refuses.
    const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", () => startTimeSeconds);
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => process.memoryUsage.rss());
    gauge("trellis_console_agents_connected", "Agents whose control socket this console replica holds.", () => this.gauges.agentsConnected());
    gauge("trellis_console_live_sockets", "Browser sockets on the live graph (/ws/live).", () => this.gauges.liveSockets());
    gauge("trellis_console_config_version", "The config version this replica pushes (0 before the first round).", () => this.gauges.configVersion());
    this.rounds = new Counter({
      name: "trellis_console_push_rounds_total",
      help: "Push rounds run: the mesh state read from the database and the current version offered to every agent behind it.",
      registers,
    });
    this.ackLatency = new Histogram({
      name: "trellis_console_snapshot_ack_duration_seconds",
      help: "Time from sending a config snapshot to an agent to its ACK.",
      buckets: ACK_BUCKETS,
      registers,
    });
    this.nacks = new Counter({ name: "trellis_console_snapshot_nacks_total", help: "Config snapshots agents refused (NACK).", registers });
    this.telemetryFrames = new Counter({
      name: "trellis_console_telemetry_frames_total",
      help: "Telemetry frames received from agents (one per agent per second; rate() gives frames per second).",
      registers,
    });
    this.dbLatency = new Histogram({
      name: "trellis_console_db_operation_duration_seconds",
      help: "Duration of each database operation the console runs (Prisma query or raw statement).",
      buckets: DB_BUCKETS,
      registers,
    });
  }

  /** Where the gauges read from, once the services they watch exist. */
  watch(gauges: ConsoleGauges): void {
    this.gauges = gauges;
  }

  pushRound(): void {
    this.rounds.inc();
  }

  snapshotAcked(latencyMs: number): void {
    this.ackLatency.observe(latencyMs / 1000);
  }

  snapshotNacked(): void {
    this.nacks.inc();
  }

  telemetryFrame(): void {
    this.telemetryFrames.inc();
  }

  dbOperation(ms: number): void {
    this.dbLatency.observe(ms / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

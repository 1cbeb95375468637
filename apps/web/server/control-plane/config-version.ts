/**
 * One cut config version: the topology every agent's snapshot is built from. Each agent's snapshot JSON is cut from
 * the version's services array, built and validated once on first use (see snapshotSerializer); a version that fails
 * validation is never sent.
 */
import type { Logger } from "../log.ts";
import type { TelemetryPolicy } from "../repositories/telemetry-policy.ts";
import { snapshotSerializer, type TopologyService } from "../snapshot-builder.ts";

export class ConfigVersion {
  private serialize: ((service: string) => string) | "invalid" | null = null;

  constructor(
    readonly version: number,
    readonly topology: TopologyService[],
    /** Equal keys, equal snapshots: a round cuts a new version only when the key changed. */
    readonly key: string,
    /** The tracing policy every snapshot of the version carries. */
    readonly telemetry: TelemetryPolicy,
    /** Counts snapshot builds (one per version). */
    private readonly onBuild: () => void,
  ) {}

  /** The snapshot of `service` as JSON. Null if the version failed validation. */
  snapshotJson(service: string, log: Logger): string | null {
    if (this.serialize === "invalid") return null;
    try {
      if (this.serialize === null) {
        this.onBuild();
        this.serialize = snapshotSerializer({
          version: this.version,
          topology: this.topology,
          issuedAt: new Date(),
          telemetry: this.telemetry,
        });
      }
      return this.serialize(service);
    } catch (err) {
      log.error("snapshot failed validation; not sent", { service, version: this.version, error: err as Error });
      if (this.serialize === null) this.serialize = "invalid";
      return null;
    }
  }
}

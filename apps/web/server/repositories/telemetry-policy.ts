/** The tracing policy (singleton row): head sampling rate and slow thresholds, pushed to agents in snapshots. */
import type { Db } from "../db.ts";

export interface TelemetryPolicy {
  sampleRate: number;
  slowThresholdMs: number;
  slowThresholdMsByService: Record<string, number>;
}

export const DEFAULT_TELEMETRY_POLICY: TelemetryPolicy = { sampleRate: 0.01, slowThresholdMs: 1000, slowThresholdMsByService: {} };

const ID = 1;

export class TelemetryPolicyRepository {
  constructor(private readonly db: Db) {}

  async get(): Promise<TelemetryPolicy> {
    const row = await this.db.telemetryPolicy.findUnique({ where: { id: ID } });
    if (!row) return { ...DEFAULT_TELEMETRY_POLICY, slowThresholdMsByService: {} };
    let by: Record<string, number> = {};
    try {
      by = JSON.parse(row.slowThresholdMsByService) as Record<string, number>;
    } catch {
      /* keep empty */
    }
    return { sampleRate: row.sampleRate, slowThresholdMs: row.slowThresholdMs, slowThresholdMsByService: by };
  }

  async set(p: TelemetryPolicy): Promise<TelemetryPolicy> {
    const data = {
      sampleRate: p.sampleRate,
      slowThresholdMs: p.slowThresholdMs,
      slowThresholdMsByService: JSON.stringify(p.slowThresholdMsByService),
    };
    await this.db.telemetryPolicy.upsert({ where: { id: ID }, create: { id: ID, ...data }, update: data });
    return this.get();
  }
}

/**
 * The tracing (sampling) policy, a singleton row: head sampling rate and slow thresholds, pushed to every agent in its
 * snapshot. Mesh-wide: its revisions have no service. Written only by the change road (server/changes/kinds/sampling.ts).
 */
import type { Db } from "../db.ts";
import { type CommitInput, type RevisionRow, revisionData, toRevision } from "./revisions.ts";

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

  /** Stores the policy and records the revision, atomically. */
  async commit(p: TelemetryPolicy, rev: CommitInput): Promise<RevisionRow> {
    const data = {
      sampleRate: p.sampleRate,
      slowThresholdMs: p.slowThresholdMs,
      slowThresholdMsByService: JSON.stringify(p.slowThresholdMsByService),
    };
    const [, row] = await this.db.$transaction([
      this.db.telemetryPolicy.upsert({ where: { id: ID }, create: { id: ID, ...data }, update: data }),
      this.db.configRevision.create({ data: revisionData(rev) }),
    ]);
    return toRevision(row);
  }
}

/**
 * Canary rollouts (CanaryRollout) and their analysis windows (CanaryCheck): the state the canary runner
 * (server/canary/runner.ts) reads every tick and writes after each transition, so a restarted console resumes each
 * rollout where it was. Settings are stored as JSON and validated again when read.
 */
import type { CanaryPhase } from "../canary/machine.ts";
import { type CanarySettings, canarySettingsSchema } from "../canary/settings.ts";
import type { Db } from "../db.ts";

export interface CanaryRow {
  id: number;
  service: string;
  baseline: string;
  canary: string;
  settings: CanarySettings;
  phase: CanaryPhase;
  stepIndex: number;
  failedChecks: number;
  windowStart: Date;
  dataFrom: Date;
  message: string;
  startedBy: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface CanaryCheckRow {
  id: number;
  rolloutId: number;
  at: Date;
  windowStart: Date;
  windowEnd: Date;
  stepIndex: number;
  weight: number;
  verdict: string;
  reasons: string;
  canaryRequests: number;
  canarySuccessPct: number | null;
  canaryP99Ms: number | null;
  baselineRequests: number;
  baselineSuccessPct: number | null;
  baselineP99Ms: number | null;
  action: string;
  revisionId: number | null;
}

export type NewCanary = Pick<
  CanaryRow,
  "service" | "baseline" | "canary" | "settings" | "phase" | "stepIndex" | "windowStart" | "dataFrom" | "message" | "startedBy"
>;
export type CanaryUpdate = Partial<Pick<CanaryRow, "phase" | "stepIndex" | "failedChecks" | "windowStart" | "dataFrom" | "message" | "finishedAt">>;
export type NewCanaryCheck = Omit<CanaryCheckRow, "id" | "at" | "rolloutId">;

type Row = Omit<CanaryRow, "settings" | "phase"> & { settings: string; phase: string };

function toCanary(r: Row): CanaryRow {
  return { ...r, settings: canarySettingsSchema.parse(JSON.parse(r.settings)), phase: r.phase as CanaryPhase };
}

const ACTIVE = ["progressing", "paused"];

export class CanaryRepository {
  constructor(private readonly db: Db) {}

  async create(c: NewCanary): Promise<CanaryRow> {
    return toCanary(await this.db.canaryRollout.create({ data: { ...c, settings: JSON.stringify(c.settings) } }));
  }

  async get(id: number): Promise<CanaryRow | null> {
    const r = await this.db.canaryRollout.findUnique({ where: { id } });
    return r ? toCanary(r) : null;
  }

  /** Rollouts still running (progressing or paused), oldest first. */
  async active(): Promise<CanaryRow[]> {
    return (await this.db.canaryRollout.findMany({ where: { phase: { in: ACTIVE } }, orderBy: { id: "asc" } })).map(toCanary);
  }

  /** The service's newest rollout (active or finished). */
  async latest(service: string): Promise<CanaryRow | null> {
    const r = await this.db.canaryRollout.findFirst({ where: { service }, orderBy: { id: "desc" } });
    return r ? toCanary(r) : null;
  }

  async update(id: number, u: CanaryUpdate): Promise<CanaryRow> {
    return toCanary(await this.db.canaryRollout.update({ where: { id }, data: u }));
  }

  async addCheck(rolloutId: number, c: NewCanaryCheck): Promise<void> {
    await this.db.canaryCheck.create({ data: { ...c, rolloutId } });
  }

  /** The rollout's analysis windows, oldest first (at most `limit`, the newest ones). */
  async checks(rolloutId: number, limit = 200): Promise<CanaryCheckRow[]> {
    const rows = await this.db.canaryCheck.findMany({ where: { rolloutId }, orderBy: { id: "desc" }, take: limit });
    return rows.reverse();
  }
}

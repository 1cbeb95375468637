/** The audit log (AuditEvent): appended by server/audit/audit-log.ts, read by the audit router with filters. */
import type { Db } from "../db.ts";

export const AUDIT_OUTCOMES = ["success", "failure", "throttled"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export const ACTOR_KINDS = ["user", "token", "anonymous", "system"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export interface AuditInput {
  actorKind: ActorKind;
  actor: string;
  clientAddress: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
  revisionId?: number | null;
}

export interface AuditRow extends Required<AuditInput> {
  id: number;
  at: string;
}

export interface AuditFilter {
  actor?: string;
  /** An exact action, or a prefix ending in "." (e.g. "config."). */
  action?: string;
  outcome?: AuditOutcome;
  from?: Date;
  to?: Date;
  /** Rows with an id below this one (paging, newest first). */
  before?: number;
  limit: number;
}

export class AuditRepository {
  constructor(private readonly db: Db) {}

  async add(e: AuditInput): Promise<number> {
    const row = await this.db.auditEvent.create({
      data: {
        actorKind: e.actorKind,
        actor: e.actor.slice(0, 128),
        clientAddress: e.clientAddress,
        action: e.action,
        target: e.target,
        outcome: e.outcome,
        details: JSON.stringify(e.details ?? {}),
        revisionId: e.revisionId ?? null,
      },
      select: { id: true },
    });
    return row.id;
  }

  /** Deletes events older than `before`; returns how many. */
  async prune(before: Date): Promise<number> {
    return (await this.db.auditEvent.deleteMany({ where: { at: { lt: before } } })).count;
  }

  async list(f: AuditFilter): Promise<AuditRow[]> {
    const rows = await this.db.auditEvent.findMany({
      where: {
        ...(f.actor ? { actor: f.actor } : {}),
        ...(f.action ? (f.action.endsWith(".") ? { action: { startsWith: f.action } } : { action: f.action }) : {}),
        ...(f.outcome ? { outcome: f.outcome } : {}),
        ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
        ...(f.before !== undefined ? { id: { lt: f.before } } : {}),
      },
      orderBy: { id: "desc" },
      take: f.limit,
    });
    return rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actorKind: r.actorKind as ActorKind,
      actor: r.actor,
      clientAddress: r.clientAddress,
      action: r.action,
      target: r.target,
      outcome: r.outcome as AuditOutcome,
      details: JSON.parse(r.details) as Record<string, unknown>,
      revisionId: r.revisionId,
    }));
  }
}

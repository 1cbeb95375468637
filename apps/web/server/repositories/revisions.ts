/**
 * The config history (ConfigRevision): one row per committed change of one part of the config (a service's traffic
 * policy, mTLS mode or authorization rules, or the mesh's sampling policy). Rows are written by the part's repository
 * in the same transaction as the change itself (`revisionData`); server/changes/road.ts is the only caller.
 */
import type { Db } from "../db.ts";

/** The parts of the config a revision can change. `sampling` and `mtls-default` are mesh-wide (no service). */
export const REVISION_PARTS = ["traffic", "mtls", "authz", "sampling", "mtls-default"] as const;
export type RevisionPart = (typeof REVISION_PARTS)[number];

export interface RevisionRow {
  id: number;
  createdAt: string;
  actor: string;
  part: RevisionPart;
  /** null for a mesh-wide part. */
  service: string | null;
  kind: string;
  summary: string;
  /** The part's document before and after (see server/changes/kinds/*). */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  diff: string[];
  configVersion: number;
  rollbackOf: number | null;
}

export interface CommitInput {
  part: RevisionPart;
  service: string | null;
  actor: string;
  kind: string;
  summary: string;
  before: object;
  after: object;
  diff: string[];
  rollbackOf?: number | null;
}

type Row = {
  id: number;
  createdAt: Date;
  actor: string;
  part: string;
  serviceName: string | null;
  kind: string;
  summary: string;
  before: string;
  after: string;
  diff: string;
  configVersion: number;
  rollbackOf: number | null;
};

export function toRevision(r: Row): RevisionRow {
  return {
    id: r.id,
    createdAt: r.createdAt.toISOString(),
    actor: r.actor,
    part: r.part as RevisionPart,
    service: r.serviceName,
    kind: r.kind,
    summary: r.summary,
    before: JSON.parse(r.before),
    after: JSON.parse(r.after),
    diff: r.diff === "" ? [] : r.diff.split("\n"),
    configVersion: r.configVersion,
    rollbackOf: r.rollbackOf,
  };
}

/** The ConfigRevision row a commit creates (each part's repository writes it in its own transaction). */
export function revisionData(c: CommitInput) {
  return {
    actor: c.actor,
    part: c.part,
    serviceName: c.service,
    kind: c.kind,
    summary: c.summary,
    before: JSON.stringify(c.before),
    after: JSON.stringify(c.after),
    diff: c.diff.join("\n"),
    rollbackOf: c.rollbackOf ?? null,
  };
}

export class RevisionRepository {
  constructor(private readonly db: Db) {}

  /** Newest first; `service` keeps that service's revisions only (mesh-wide ones have none). */
  async list(opts: { service?: string; limit?: number } = {}): Promise<RevisionRow[]> {
    const rows = await this.db.configRevision.findMany({
      where: opts.service ? { serviceName: opts.service } : undefined,
      orderBy: { id: "desc" },
      take: opts.limit ?? 100,
    });
    return rows.map(toRevision);
  }

  async get(id: number): Promise<RevisionRow | null> {
    const r = await this.db.configRevision.findUnique({ where: { id } });
    return r ? toRevision(r) : null;
  }

  /** Revisions of the same part (and service) committed after `id`, oldest first: what a rollback must not undo. */
  async laterThan(id: number, part: RevisionPart, service: string | null): Promise<RevisionRow[]> {
    const rows = await this.db.configRevision.findMany({ where: { id: { gt: id }, part, serviceName: service }, orderBy: { id: "asc" } });
    return rows.map(toRevision);
  }

  async setConfigVersion(id: number, configVersion: number): Promise<void> {
    await this.db.configRevision.update({ where: { id }, data: { configVersion } });
  }

  count(): Promise<number> {
    return this.db.configRevision.count();
  }
}

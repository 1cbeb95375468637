/**
 * Security policies: the mesh-wide mTLS default (PERMISSIVE unless set), each service's mTLS override (no row = the mesh
 * default) and the authorization allow rules. Reads serve the
 * snapshot builder and the console; writes come only from the change road (server/changes/kinds/security.ts), each
 * together with its ConfigRevision in one transaction.
 */
import type { AuthzRule, MtlsMode } from "@trellis/protocol";
import type { Db } from "../db.ts";
import { type CommitInput, type RevisionRow, revisionData, toRevision } from "./revisions.ts";

export interface AuthzRuleRow {
  id: string;
  service: string;
  principals: string[];
  methods: string[];
  paths: string[];
  createdAt: string;
  createdBy: string;
}

const parseList = (s: string): string[] => {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};

type RuleRecord = { id: string; principals: string; methods: string; paths: string; createdAt: Date; createdBy: string; service: { name: string } };

function toRow(r: RuleRecord): AuthzRuleRow {
  return {
    id: r.id,
    service: r.service.name,
    principals: parseList(r.principals),
    methods: parseList(r.methods),
    paths: parseList(r.paths),
    createdAt: r.createdAt.toISOString(),
    createdBy: r.createdBy,
  };
}

/** A rule as the protocol has it (methods / paths always present). */
export function toRule(r: { principals: string[]; methods?: string[]; paths?: string[] }): AuthzRule {
  return { principals: r.principals, methods: r.methods ?? [], paths: r.paths ?? [] };
}

/** Equal rules, equal keys (principals, methods and paths in order). */
export const ruleKey = (r: { principals: string[]; methods?: string[]; paths?: string[] }): string => JSON.stringify(toRule(r));

/** What the mesh-wide default may be: services are meshed with mTLS either way (automatic mTLS). */
export type MeshMtlsMode = Exclude<MtlsMode, "DISABLE">;
export const DEFAULT_MESH_MTLS: MeshMtlsMode = "PERMISSIVE";
const MESH_ID = 1;

export class SecurityPolicyRepository {
  constructor(private readonly db: Db) {}

  /** The mesh-wide mTLS mode of services without an override (PERMISSIVE when never set). */
  async meshDefault(): Promise<MeshMtlsMode> {
    const row = await this.db.meshMtlsPolicy.findUnique({ where: { id: MESH_ID }, select: { defaultMode: true } });
    return row?.defaultMode === "STRICT" ? "STRICT" : DEFAULT_MESH_MTLS;
  }

  /** Sets the mesh-wide default and records the revision, atomically. */
  async commitMeshDefault(mode: MeshMtlsMode, rev: CommitInput): Promise<RevisionRow> {
    const [, row] = await this.db.$transaction([
      this.db.meshMtlsPolicy.upsert({
        where: { id: MESH_ID },
        create: { id: MESH_ID, defaultMode: mode, updatedBy: rev.actor },
        update: { defaultMode: mode, updatedBy: rev.actor },
      }),
      this.db.configRevision.create({ data: revisionData(rev) }),
    ]);
    return toRevision(row);
  }

  /** Services' mTLS overrides (services without a row get the mesh default). */
  async mtlsModes(): Promise<Map<string, MtlsMode>> {
    const rows = await this.db.mtlsPolicy.findMany({ select: { mode: true, service: { select: { name: true } } } });
    return new Map(rows.map((r) => [r.service.name, r.mode as MtlsMode]));
  }

  /**
   * A service's id and mTLS mode (its override, else the mesh default: `inherited`); null when there is no such service.
   */
  async mtlsOf(service: string): Promise<{ serviceId: string; mode: MtlsMode; inherited: boolean } | null> {
    const svc = await this.db.service.findUnique({ where: { name: service }, select: { id: true, mtlsPolicy: { select: { mode: true } } } });
    if (!svc) return null;
    const own = svc.mtlsPolicy?.mode as MtlsMode | undefined;
    return { serviceId: svc.id, mode: own ?? (await this.meshDefault()), inherited: own === undefined };
  }

  async authzRules(service?: string): Promise<AuthzRuleRow[]> {
    const rows = await this.db.authorizationPolicy.findMany({
      where: service ? { service: { name: service } } : undefined,
      orderBy: { createdAt: "asc" },
      include: { service: { select: { name: true } } },
    });
    return rows.map(toRow);
  }

  /** Rules per service, in the snapshot's shape. */
  async authzByService(): Promise<Map<string, AuthzRule[]>> {
    const out = new Map<string, AuthzRule[]>();
    for (const r of await this.authzRules()) {
      const list = out.get(r.service) ?? [];
      list.push(toRule(r));
      out.set(r.service, list);
    }
    return out;
  }

  /** One rule by id (with its service), or null. */
  async authzRule(id: string): Promise<AuthzRuleRow | null> {
    const r = await this.db.authorizationPolicy.findUnique({ where: { id }, include: { service: { select: { name: true } } } });
    return r ? toRow(r) : null;
  }

  /** Sets a service's mTLS mode and records the revision, atomically. */
  async commitMtls(serviceId: string, mode: MtlsMode, rev: CommitInput): Promise<RevisionRow> {
    const [, row] = await this.db.$transaction([
      this.db.mtlsPolicy.upsert({
        where: { serviceId },
        create: { serviceId, mode, updatedBy: rev.actor },
        update: { mode, updatedBy: rev.actor },
      }),
      this.db.configRevision.create({ data: revisionData(rev) }),
    ]);
    return toRevision(row);
  }

  /**
   * Makes the service's rules exactly `rules` and records the revision, atomically. Rules present before and after
   * keep their rows (and ids); only the removed ones are deleted and the new ones created.
   */
  async commitRules(serviceId: string, current: AuthzRuleRow[], rules: AuthzRule[], rev: CommitInput): Promise<RevisionRow> {
    const keep = new Map<string, number>();
    for (const r of rules) keep.set(ruleKey(r), (keep.get(ruleKey(r)) ?? 0) + 1);
    const removed: string[] = [];
    for (const row of current) {
      const n = keep.get(ruleKey(row)) ?? 0;
      if (n > 0) keep.set(ruleKey(row), n - 1);
      else removed.push(row.id);
    }
    const added: AuthzRule[] = [];
    for (const r of rules) {
      const n = keep.get(ruleKey(r)) ?? 0;
      if (n > 0) {
        added.push(r);
        keep.set(ruleKey(r), n - 1);
      }
    }
    const results = await this.db.$transaction([
      this.db.authorizationPolicy.deleteMany({ where: { id: { in: removed } } }),
      ...added.map((r) => this.db.authorizationPolicy.create({ data: ruleData(serviceId, r, rev.actor) })),
      this.db.configRevision.create({ data: revisionData(rev) }),
    ]);
    return toRevision(results[results.length - 1] as Parameters<typeof toRevision>[0]);
  }
}

function ruleData(serviceId: string, rule: AuthzRule, actor: string) {
  return {
    serviceId,
    principals: JSON.stringify(rule.principals),
    methods: JSON.stringify(rule.methods ?? []),
    paths: JSON.stringify(rule.paths ?? []),
    createdBy: actor,
  };
}

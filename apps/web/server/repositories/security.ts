/** Security storage: mTLS modes and authorization rules per service, users and sessions, join tokens. */
import type { AuthzRule, MtlsMode } from "@trellis/protocol";
import type { Db } from "../db.ts";
import { type CommitInput, type RevisionRow, revisionData, type SecurityDoc, toRevision } from "./policies.ts";

export type Role = "viewer" | "operator" | "admin";
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

export interface AuthzRuleRow {
  id: string;
  service: string;
  principals: string[];
  methods: string[];
  paths: string[];
  createdAt: string;
  createdBy: string;
}

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

export interface JoinTokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const parseList = (s: string): string[] => {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};

export class SecurityPolicyRepository {
  constructor(private readonly db: Db) {}

  /** Every service's mTLS mode (services without a row are DISABLE). */
  async mtlsModes(): Promise<Map<string, MtlsMode>> {
    const rows = await this.db.mtlsPolicy.findMany({ select: { mode: true, service: { select: { name: true } } } });
    return new Map(rows.map((r) => [r.service.name, r.mode as MtlsMode]));
  }

  async setMtls(service: string, mode: MtlsMode, actor: string): Promise<boolean> {
    const svc = await this.db.service.findUnique({ where: { name: service }, select: { id: true } });
    if (!svc) return false;
    await this.db.mtlsPolicy.upsert({
      where: { serviceId: svc.id },
      create: { serviceId: svc.id, mode, updatedBy: actor },
      update: { mode, updatedBy: actor },
    });
    return true;
  }

  async authzRules(service?: string): Promise<AuthzRuleRow[]> {
    const rows = await this.db.authorizationPolicy.findMany({
      where: service ? { service: { name: service } } : undefined,
      orderBy: { createdAt: "asc" },
      include: { service: { select: { name: true } } },
    });
    return rows.map((r) => ({
      id: r.id,
      service: r.service.name,
      principals: parseList(r.principals),
      methods: parseList(r.methods),
      paths: parseList(r.paths),
      createdAt: r.createdAt.toISOString(),
      createdBy: r.createdBy,
    }));
  }

  /** Rules per service, in the snapshot's shape. */
  async authzByService(): Promise<Map<string, AuthzRule[]>> {
    const out = new Map<string, AuthzRule[]>();
    for (const r of await this.authzRules()) {
      const list = out.get(r.service) ?? [];
      list.push({ principals: r.principals, methods: r.methods, paths: r.paths });
      out.set(r.service, list);
    }
    return out;
  }

  async addAuthzRule(service: string, rule: AuthzRule, actor: string): Promise<string | null> {
    const svc = await this.db.service.findUnique({ where: { name: service }, select: { id: true } });
    if (!svc) return null;
    const row = await this.db.authorizationPolicy.create({
      data: {
        serviceId: svc.id,
        principals: JSON.stringify(rule.principals),
        methods: JSON.stringify(rule.methods),
        paths: JSON.stringify(rule.paths),
        createdBy: actor,
      },
      select: { id: true },
    });
    return row.id;
  }

  async removeAuthzRule(id: string): Promise<boolean> {
    const r = await this.db.authorizationPolicy.deleteMany({ where: { id } });
    return r.count > 0;
  }

  // ---- changes recorded as config revisions (server/traffic.ts): the change and its revision in one transaction ----

  /** A service's mTLS mode and rules as a revision document; null when there is no such service. */
  async stateOf(service: string): Promise<{ serviceId: string; doc: Required<SecurityDoc>; rules: AuthzRuleRow[] } | null> {
    const svc = await this.db.service.findUnique({ where: { name: service }, select: { id: true, mtlsPolicy: { select: { mode: true } } } });
    if (!svc) return null;
    const rules = await this.authzRules(service);
    return {
      serviceId: svc.id,
      doc: { mtls: (svc.mtlsPolicy?.mode as MtlsMode | undefined) ?? "DISABLE", authorization: rules.map(toRule) },
      rules,
    };
  }

  /** One rule by id (with its service), or null. */
  async authzRule(id: string): Promise<AuthzRuleRow | null> {
    const rules = await this.db.authorizationPolicy.findMany({ where: { id }, include: { service: { select: { name: true } } } });
    const r = rules[0];
    return r
      ? {
          id: r.id,
          service: r.service.name,
          principals: parseList(r.principals),
          methods: parseList(r.methods),
          paths: parseList(r.paths),
          createdAt: r.createdAt.toISOString(),
          createdBy: r.createdBy,
        }
      : null;
  }

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

  async commitAddRule(serviceId: string, rule: AuthzRule, rev: CommitInput): Promise<{ id: string; revision: RevisionRow }> {
    const [created, row] = await this.db.$transaction([
      this.db.authorizationPolicy.create({ data: ruleData(serviceId, rule, rev.actor), select: { id: true } }),
      this.db.configRevision.create({ data: revisionData(rev) }),
    ]);
    return { id: created.id, revision: toRevision(row) };
  }

  async commitRemoveRule(id: string, rev: CommitInput): Promise<RevisionRow> {
    const [, row] = await this.db.$transaction([
      this.db.authorizationPolicy.deleteMany({ where: { id } }),
      this.db.configRevision.create({ data: revisionData(rev) }),
    ]);
    return toRevision(row);
  }

  /** Rollback: the service's rules become exactly `rules` (and its mode `mode`, when given). */
  async commitRestore(serviceId: string, restore: SecurityDoc, rev: CommitInput): Promise<RevisionRow> {
    const ops = [];
    if (restore.mtls !== undefined) {
      const mode = restore.mtls;
      ops.push(
        this.db.mtlsPolicy.upsert({
          where: { serviceId },
          create: { serviceId, mode, updatedBy: rev.actor },
          update: { mode, updatedBy: rev.actor },
        }),
      );
    }
    if (restore.authorization !== undefined) {
      ops.push(this.db.authorizationPolicy.deleteMany({ where: { serviceId } }));
      for (const rule of restore.authorization) ops.push(this.db.authorizationPolicy.create({ data: ruleData(serviceId, rule, rev.actor) }));
    }
    const results = await this.db.$transaction([...ops, this.db.configRevision.create({ data: revisionData(rev) })]);
    return toRevision(results[results.length - 1] as Parameters<typeof toRevision>[0]);
  }
}

function toRule(r: AuthzRuleRow): AuthzRule {
  return { principals: r.principals, methods: r.methods, paths: r.paths };
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

export class UserRepository {
  constructor(private readonly db: Db) {}

  count(): Promise<number> {
    return this.db.user.count();
  }

  async create(username: string, passwordHash: string, role: Role): Promise<SessionUser> {
    const u = await this.db.user.create({ data: { username, passwordHash, role }, select: { id: true, username: true, role: true } });
    return { ...u, role: u.role as Role };
  }

  findByUsername(username: string) {
    return this.db.user.findUnique({ where: { username } });
  }

  async list(): Promise<{ id: string; username: string; role: Role; createdAt: string }[]> {
    const rows = await this.db.user.findMany({ orderBy: { createdAt: "asc" }, select: { id: true, username: true, role: true, createdAt: true } });
    return rows.map((r) => ({ ...r, role: r.role as Role, createdAt: r.createdAt.toISOString() }));
  }

  async setRole(id: string, role: Role): Promise<boolean> {
    return (await this.db.user.updateMany({ where: { id }, data: { role } })).count > 0;
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.db.user.update({ where: { id }, data: { passwordHash } });
    await this.db.userSession.deleteMany({ where: { userId: id } });
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.user.deleteMany({ where: { id } })).count > 0;
  }

  countAdmins(): Promise<number> {
    return this.db.user.count({ where: { role: "admin" } });
  }

  async createSession(userId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.userSession.create({ data: { userId, tokenHash, expiresAt } });
  }

  async sessionUser(tokenHash: string, now: Date): Promise<SessionUser | null> {
    const s = await this.db.userSession.findUnique({
      where: { tokenHash },
      select: { expiresAt: true, user: { select: { id: true, username: true, role: true } } },
    });
    if (!s || s.expiresAt <= now) return null;
    return { ...s.user, role: s.user.role as Role };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.userSession.deleteMany({ where: { tokenHash } });
  }

  async pruneSessions(now: Date): Promise<void> {
    await this.db.userSession.deleteMany({ where: { expiresAt: { lt: now } } });
  }
}

export class JoinTokenRepository {
  constructor(private readonly db: Db) {}

  /** Adds a token by hash unless present (the bootstrap token at every start). */
  async ensure(name: string, tokenHash: string, prefix: string, actor: string): Promise<void> {
    await this.db.joinToken.upsert({ where: { tokenHash }, create: { name, tokenHash, prefix, createdBy: actor }, update: {} });
  }

  async create(name: string, tokenHash: string, prefix: string, actor: string): Promise<JoinTokenRow> {
    return toRow(await this.db.joinToken.create({ data: { name, tokenHash, prefix, createdBy: actor } }));
  }

  /** The token's id when it exists and is not revoked. */
  async verify(tokenHash: string, now: Date): Promise<{ id: string; name: string } | null> {
    const t = await this.db.joinToken.findUnique({ where: { tokenHash }, select: { id: true, name: true, revokedAt: true } });
    if (!t || t.revokedAt) return null;
    await this.db.joinToken.update({ where: { id: t.id }, data: { lastUsedAt: now } });
    return { id: t.id, name: t.name };
  }

  async revoke(id: string, now: Date): Promise<boolean> {
    return (await this.db.joinToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } })).count > 0;
  }

  async list(): Promise<JoinTokenRow[]> {
    return (await this.db.joinToken.findMany({ orderBy: { createdAt: "asc" } })).map(toRow);
  }
}

function toRow(t: {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}): JoinTokenRow {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    createdBy: t.createdBy,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  };
}

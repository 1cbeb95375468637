/** Console access: users and sessions, agent join tokens (mTLS modes and authorization rules: security-policies.ts). */
import type { Db } from "../db.ts";

export type Role = "viewer" | "operator" | "admin";
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
  /** Set when the caller is an API token (bearer): `username` is then `token:<name>` and `id` the token's id. */
  kind?: "token";
}

export interface JoinTokenRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The services it may register (names or glob patterns); null = any service. */
  scope: string[] | null;
  /** `<service>/<instance id>` of the last agent admitted with it. */
  lastUsedBy: string | null;
}

/** What the handshake needs of a presented token. */
export interface VerifiedJoinToken {
  id: string;
  name: string;
  scope: string[] | null;
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

  async byId(id: string): Promise<SessionUser | null> {
    const u = await this.db.user.findUnique({ where: { id }, select: { id: true, username: true, role: true } });
    return u ? { ...u, role: u.role as Role } : null;
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

  /** `scope`: the services it may register; null = any. */
  async create(name: string, tokenHash: string, prefix: string, actor: string, scope: string[] | null = null): Promise<JoinTokenRow> {
    return toRow(
      await this.db.joinToken.create({ data: { name, tokenHash, prefix, createdBy: actor, scope: scope ? JSON.stringify(scope) : null } }),
    );
  }

  /** The token (id, name, scope) when it exists and is not revoked. Its use is recorded apart (`recordUse`). */
  async verify(tokenHash: string): Promise<VerifiedJoinToken | null> {
    const t = await this.db.joinToken.findUnique({ where: { tokenHash }, select: { id: true, name: true, revokedAt: true, scope: true } });
    if (!t || t.revokedAt) return null;
    return { id: t.id, name: t.name, scope: parseScopeColumn(t.scope) };
  }

  /** `verify` for many token hashes in one query: the valid ones, by hash. */
  async verifyMany(tokenHashes: string[]): Promise<Map<string, VerifiedJoinToken>> {
    const rows = await this.db.joinToken.findMany({
      where: { tokenHash: { in: [...new Set(tokenHashes)] }, revokedAt: null },
      select: { id: true, name: true, scope: true, tokenHash: true },
    });
    return new Map(rows.map((t) => [t.tokenHash, { id: t.id, name: t.name, scope: parseScopeColumn(t.scope) }]));
  }

  /** An agent was admitted with the token: when, and which service/instance. */
  async recordUse(id: string, now: Date, by: string): Promise<void> {
    await this.db.joinToken.update({ where: { id }, data: { lastUsedAt: now, lastUsedBy: by.slice(0, 200) } });
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
  scope: string | null;
  lastUsedBy: string | null;
}): JoinTokenRow {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: t.createdAt.toISOString(),
    createdBy: t.createdBy,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    scope: parseScopeColumn(t.scope),
    lastUsedBy: t.lastUsedBy,
  };
}

/** The stored JSON list; anything unreadable scopes the token to nothing rather than to everything. */
function parseScopeColumn(s: string | null): string[] | null {
  if (s === null) return null;
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

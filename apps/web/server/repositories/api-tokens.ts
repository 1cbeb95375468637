/** API tokens (ApiToken): bearer access to the API with a role. Only the SHA-256 of a value is stored. */
import type { Db } from "../db.ts";
import type { Role } from "./security.ts";

export interface ApiTokenRow {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** What a presented token resolves to: enough to act as it. */
export interface VerifiedApiToken {
  id: string;
  name: string;
  role: Role;
}

export interface NewApiToken {
  name: string;
  tokenHash: string;
  prefix: string;
  role: Role;
  createdBy: string;
  expiresAt: Date | null;
}

export class ApiTokenRepository {
  constructor(private readonly db: Db) {}

  async byName(name: string): Promise<ApiTokenRow | null> {
    const t = await this.db.apiToken.findUnique({ where: { name } });
    return t ? toRow(t) : null;
  }

  async create(t: NewApiToken): Promise<ApiTokenRow> {
    return toRow(await this.db.apiToken.create({ data: t }));
  }

  /** The token when it exists, is not revoked and has not expired at `now`; null otherwise. */
  async verify(tokenHash: string, now: Date): Promise<VerifiedApiToken | null> {
    const t = await this.db.apiToken.findUnique({ where: { tokenHash } });
    if (!t || t.revokedAt || (t.expiresAt && t.expiresAt <= now)) return null;
    return { id: t.id, name: t.name, role: t.role as Role };
  }

  async recordUse(id: string, now: Date): Promise<void> {
    await this.db.apiToken.updateMany({ where: { id }, data: { lastUsedAt: now } });
  }

  async revoke(id: string, now: Date): Promise<ApiTokenRow | null> {
    const n = await this.db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
    if (n.count === 0) return null;
    const t = await this.db.apiToken.findUnique({ where: { id } });
    return t ? toRow(t) : null;
  }

  async list(): Promise<ApiTokenRow[]> {
    return (await this.db.apiToken.findMany({ orderBy: { createdAt: "asc" } })).map(toRow);
  }
}

type Stored = Omit<ApiTokenRow, "role" | "createdAt" | "expiresAt" | "revokedAt" | "lastUsedAt"> & {
  role: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
};

function toRow(t: Stored & { tokenHash?: string }): ApiTokenRow {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    role: t.role as Role,
    createdAt: t.createdAt.toISOString(),
    createdBy: t.createdBy,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * API tokens on the wire: `Authorization: Bearer <token>` resolved to the caller it stands for (a SessionUser with
 * `kind: "token"` and the username `token:<name>`, so revisions and audit events name the token). New values are
 * 256-bit random, prefixed `trl_` so they are recognisable in a leaked file; only their SHA-256 is stored; a value is
 * never logged.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { hashToken } from "../join-token.ts";
import type { Repositories, SessionUser } from "../repositories/index.ts";

/** How often the last use of one token is written (every call would be a write per API request). */
const USE_WRITE_INTERVAL_MS = 30_000;

export function newApiToken(): string {
  return `trl_${randomBytes(32).toString("base64url")}`;
}

/** The bearer value of a request, `undefined` without an Authorization bearer header, "" for a malformed one. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(\S{1,256})\s*$/i.exec(h);
  return m ? m[1] : "";
}

export function tokenActor(name: string): string {
  return `token:${name}`;
}

export class ApiTokenAuth {
  private readonly lastWrite = new Map<string, number>();

  constructor(private readonly repos: Pick<Repositories, "apiTokens">) {}

  /** The caller for a presented value, or null (unknown, revoked or expired). Records the use (throttled). */
  async userFor(value: string, now = new Date()): Promise<SessionUser | null> {
    if (!value) return null;
    const t = await this.repos.apiTokens.verify(hashToken(value), now);
    if (!t) return null;
    const last = this.lastWrite.get(t.id) ?? 0;
    if (now.getTime() - last >= USE_WRITE_INTERVAL_MS) {
      this.lastWrite.set(t.id, now.getTime());
      await this.repos.apiTokens.recordUse(t.id, now);
    }
    return { id: t.id, username: tokenActor(t.name), role: t.role, kind: "token" };
  }
}

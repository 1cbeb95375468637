/**
 * Console sign-in: users with roles (viewer < operator < admin), scrypt password hashes, server-side sessions.
 *
 * - Passwords: scrypt (memory-hard; N=2^15, r=8, p=1 → 32 MiB per hash), random 16-byte salt, constant-time compare.
 * - Sessions: a random 32-byte value in an httpOnly, SameSite=Lax cookie (Secure when served over https); the database
 *   keeps only its SHA-256. 12 h lifetime.
 * - CSRF: state-changing requests (POST) must come from the console's own origin (Origin header, when the client sends
 *   one, must match Host) and tRPC mutations must carry the `x-trellis-csrf` header, which a cross-site form cannot
 *   send and a cross-site script cannot send without a CORS preflight the console never grants. SameSite=Lax keeps the
 *   cookie off cross-site POSTs as well.
 * - The first admin (`admin`) is created at first start with TRELLIS_ADMIN_PASSWORD, or a generated password that is
 *   printed once on stdout (never logged).
 * - Sign-in is throttled per username tried and per client address (audit/sign-in-guard.ts): a locked attempt gets
 *   429 + Retry-After (a form: back to /signin?error=throttled) without checking the password, whether or not the
 *   user exists. Every sign-in (success, failure with the username tried) and sign-out is audited, and the first
 *   throttled attempt of each lock.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditLog } from "../audit/audit-log.ts";
import { clientAddressOf } from "../audit/request-actor.ts";
import { SignInGuard } from "../audit/sign-in-guard.ts";
import type { Repositories, Role, SessionUser } from "../repositories/index.ts";

export const SESSION_COOKIE = "trellis_session";
export const CSRF_HEADER = "x-trellis-csrf";
const SESSION_TTL_MS = 12 * 3600 * 1000;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 };
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

function scryptAsync(password: string, salt: Buffer, p: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, p.keylen, { N: p.N, r: p.r, p: p.p, maxmem: 128 * p.N * p.r * 2 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>` */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const key = await scryptAsync(password, salt, { N, r, p, keylen: expected.length });
  return timingSafeEqual(key, expected);
}

export function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

export function isHttps(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true || req.headers["x-forwarded-proto"] === "https";
}

/** Whether a browser-sent Origin (if any) is this console's own. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (or a same-origin GET): nothing cross-site to defend against
  const host = req.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Only same-site relative paths are followed after sign-in (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

export function validPassword(pw: string): string | null {
  if (pw.length < 8) return "password must have at least 8 characters";
  if (pw.length > 256) return "password is too long";
  return null;
}

export class Auth {
  /** Short cache of session lookups (a page polls several queries a second). Cleared on sign-out. */
  private readonly cache = new Map<string, { user: SessionUser | null; until: number }>();

  private readonly guard: SignInGuard;
  private readonly audit: AuditLog | null;

  constructor(
    private readonly repos: Repositories,
    opts: { guard?: SignInGuard; audit?: AuditLog } = {},
  ) {
    this.guard = opts.guard ?? new SignInGuard();
    this.audit = opts.audit ?? null;
  }

  /** Creates `admin` when there is no user. Returns the password only when it was generated (to be shown once). */
  async ensureFirstAdmin(fromEnv: string | undefined): Promise<{ created: boolean; generated: string | null }> {
    if ((await this.repos.users.count()) > 0) return { created: false, generated: null };
    const generated = fromEnv ? null : randomBytes(15).toString("base64url");
    await this.repos.users.create("admin", await hashPassword(fromEnv ?? generated!), "admin");
    return { created: true, generated };
  }

  async userFromRequest(req: IncomingMessage): Promise<SessionUser | null> {
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (!token || token.length > 128) return null;
    const hash = sha256(token);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.user;
    const user = await this.repos.users.sessionUser(hash, new Date(now));
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(hash, { user, until: now + 2_000 });
    return user;
  }

  async signIn(username: string, password: string): Promise<{ user: SessionUser; token: string } | null> {
    const row = await this.repos.users.findByUsername(username);
    // Hash anyway when the user does not exist, so timing does not tell which usernames exist.
    const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
    if (!row || !ok) return null;
    const token = randomBytes(32).toString("base64url");
    await this.repos.users.createSession(row.id, sha256(token), new Date(Date.now() + SESSION_TTL_MS));
    return { user: { id: row.id, username: row.username, role: row.role as Role }, token };
  }

  async signOut(req: IncomingMessage): Promise<void> {
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (!token) return;
    const hash = sha256(token);
    this.cache.delete(hash);
    await this.repos.users.deleteSession(hash);
  }

  /** Drops cached lookups (after role changes and user deletions). */
  invalidate(): void {
    this.cache.clear();
  }

  sessionCookie(req: IncomingMessage, token: string | null): string {
    const attrs = ["Path=/", "HttpOnly", "SameSite=Lax"];
    if (isHttps(req)) attrs.push("Secure");
    if (token === null) return `${SESSION_COOKIE}=; Max-Age=0; ${attrs.join("; ")}`;
    return `${SESSION_COOKIE}=${token}; Max-Age=${SESSION_TTL_MS / 1000}; ${attrs.join("; ")}`;
  }

  /**
   * `/api/auth/*`: POST signin (JSON `{username,password,next?}` or an HTML form), POST signout, GET me.
   * Forms get 303 redirects; JSON clients get JSON.
   */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
      res.end(JSON.stringify(body));
    };
    const redirect = (location: string, headers: Record<string, string> = {}) => {
      res.writeHead(303, { location, "cache-control": "no-store", ...headers });
      res.end();
    };
    if (path === "/api/auth/me" && req.method === "GET") {
      const user = await this.userFromRequest(req);
      return user ? json(200, { user }) : json(401, { error: "not signed in" });
    }
    if (req.method !== "POST") return json(405, { error: "method not allowed" });
    if (!sameOrigin(req)) return json(403, { error: "cross-origin request refused" });
    const ctype = String(req.headers["content-type"] ?? "");
    const isForm = ctype.startsWith("application/x-www-form-urlencoded");
    const clientAddress = clientAddressOf(req);
    if (path === "/api/auth/signout") {
      const user = await this.userFromRequest(req);
      await this.signOut(req);
      if (user)
        await this.audit?.record({
          actorKind: "user",
          actor: user.username,
          clientAddress,
          action: "auth.signout",
          target: user.username,
          outcome: "success",
        });
      const cookie = { "set-cookie": this.sessionCookie(req, null) };
      return isForm ? redirect("/signin", cookie) : json(200, { ok: true }, cookie);
    }
    if (path !== "/api/auth/signin") return json(404, { error: "not found" });
    const raw = await readBody(req, 16 * 1024);
    if (raw === null) return json(413, { error: "body too large" });
    let fields: Record<string, unknown>;
    try {
      fields = isForm ? Object.fromEntries(new URLSearchParams(raw)) : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      return json(400, { error: "invalid body" });
    }
    const username = typeof fields.username === "string" ? fields.username.trim().slice(0, 64) : "";
    const password = typeof fields.password === "string" ? fields.password.slice(0, 256) : "";
    const next = safeNext(fields.next);
    const attempt = { actorKind: "anonymous", actor: username, clientAddress, action: "auth.signin", target: username } as const;
    const gate = this.guard.check(username, clientAddress);
    if (!gate.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(gate.retryAfterMs / 1000));
      // Only the first refusal of each lock is recorded: refused attempts are free for a client to repeat.
      if (gate.first) await this.audit?.record({ ...attempt, outcome: "throttled", details: { retryAfterSeconds } });
      if (isForm) return redirect(`/signin?error=throttled&next=${encodeURIComponent(next)}`);
      return json(429, { error: "too many failed sign-ins; try again later", retryAfterSeconds }, { "retry-after": String(retryAfterSeconds) });
    }
    const result = username && password ? await this.signIn(username, password) : null;
    if (!result) {
      this.guard.failed(username, clientAddress);
      await this.audit?.record({
        ...attempt,
        outcome: "failure",
        details: { reason: username && password ? "invalid credentials" : "missing fields" },
      });
      return isForm ? redirect(`/signin?error=1&next=${encodeURIComponent(next)}`) : json(401, { error: "invalid username or password" });
    }
    this.guard.succeeded(username);
    await this.audit?.record({ ...attempt, actorKind: "user", outcome: "success", details: { role: result.user.role } });
    const cookie = { "set-cookie": this.sessionCookie(req, result.token) };
    return isForm ? redirect(next, cookie) : json(200, { user: result.user }, cookie);
  }
}

const DUMMY_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.alloc(16).toString("base64")}$${Buffer.alloc(32).toString("base64")}`;

function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

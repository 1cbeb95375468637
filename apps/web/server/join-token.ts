/** The join token agents present in `hello`. Compared in constant time; never logged. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface JoinTokenSource {
  token: string;
  source: "env" | "file" | "generated";
  file?: string;
}

/** TRELLIS_JOIN_TOKEN wins; otherwise `<dataDir>/join-token` (created at first start with mode 0600). */
export function loadJoinToken(dataDir: string, fromEnv: string | undefined): JoinTokenSource {
  if (fromEnv) return { token: fromEnv.trim(), source: "env" };
  const file = path.join(dataDir, "join-token");
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (token) {
      chmodSync(file, 0o600);
      return { token, source: "file", file };
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, source: "generated", file };
}

/** Constant-time comparison (hashing first makes the lengths equal, so the length is not leaked either). */
export function tokenMatches(expected: string, presented: string): boolean {
  const a = createHash("sha256").update(expected, "utf8").digest();
  const b = createHash("sha256").update(presented, "utf8").digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

/** What is stored for a join token: its SHA-256 (tokens are 256-bit random values, so a fast hash is enough). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The first characters, to tell tokens apart in the console (never enough to use one). */
export function tokenPrefix(token: string): string {
  return token.slice(0, 6);
}

/** A new join token value. */
export function newJoinToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Join token scopes, pure: the services a token may register, as names or glob patterns (`*` matches any run of
 * characters: `shop-*`, `*-worker`). No scope (null) = any service: the env/file bootstrap token and tokens made
 * before scopes existed.
 */
import { invalidInput } from "../errors.ts";

/** A pattern: a service name (DNS label) that may hold `*`, or `*` alone. */
const PATTERN = /^(?=.{1,63}$)[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?$/;

export type TokenScope = readonly string[] | null;

/**
 * "web, shop-*" or ["web", "shop-*"] → the patterns, validated (CONSOLE_INVALID_INPUT names the bad one). An empty
 * scope is refused: it could register nothing (a token for any service is made without a scope).
 */
export function parseScope(input: string | readonly string[]): string[] {
  const list = (typeof input === "string" ? input.split(/[\s,]+/) : [...input]).map((p) => p.trim()).filter((p) => p.length > 0);
  if (list.length === 0) throw invalidInput("scope: name at least one service or pattern (such as web or shop-*)");
  for (const p of list)
    if (!PATTERN.test(p)) throw invalidInput(`scope: "${p}" is not a service name or pattern (lowercase letters, digits, '-', '*')`);
  return [...new Set(list)];
}

function matches(pattern: string, service: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
  return re.test(service);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether a token with this scope may register `service`. */
export function scopeCovers(scope: TokenScope, service: string): boolean {
  return scope === null || scope.some((p) => matches(p, service));
}

/** The scope as shown to people: "any service" or "web, shop-*". */
export function scopeText(scope: TokenScope): string {
  return scope === null ? "any service" : scope.join(", ");
}

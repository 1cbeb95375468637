/**
 * Authorization policy compiled for the request path: allow-list rules with sets instead of arrays. A rule's
 * principals are SPIFFE ids, or `*`: any authenticated mesh identity (a caller whose certificate was verified), never
 * a plaintext caller. Headers never count as identity. inbound/authz.ts applies the compiled rules.
 */
import type { Authorization } from "@trellis/protocol";
import { matchesPathPrefix } from "./path-prefix.ts";

export interface CompiledRule {
  /** `*`: any authenticated caller. */
  anyIdentity: boolean;
  principals: Set<string>;
  /** null: any method. */
  methods: Set<string> | null;
  /** null: any path. */
  paths: string[] | null;
}

export class CompiledAuthz {
  constructor(readonly rules: CompiledRule[]) {}

  /** `target` is the request target (path and query). */
  allows(principal: string | null, method: string, target: string): boolean {
    let path: string | null | undefined; // computed once, only if a rule has paths
    for (const r of this.rules) {
      if (principal === null || !(r.anyIdentity || r.principals.has(principal))) continue;
      if (r.methods !== null && !r.methods.has(method)) continue;
      if (r.paths !== null) {
        if (path === undefined) path = canonicalPath(target);
        if (path === null || !matchesAnyPrefix(path, r.paths)) continue;
      }
      return true;
    }
    return false;
  }
}

const NON_CANONICAL = /(?:^|\/)\.\.?(?:\/|$)|%2e|%2f|%5c|\\/i;

/**
 * The path of a request target, or null when it is not canonical (dot segments, encoded '.', '/' or '\'): such a
 * request matches no path rule, so an allow-list cannot be walked around with `/public/../admin`.
 */
export function canonicalPath(target: string): string | null {
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  return NON_CANONICAL.test(path) ? null : path;
}

/** A prefix matches whole segments: `/public` matches `/public` and `/public/x`, not `/publicity`. */
function matchesAnyPrefix(path: string, prefixes: string[]): boolean {
  for (const p of prefixes) if (matchesPathPrefix(path, p)) return true;
  return false;
}

export function compileAuthz(policy: Authorization): CompiledAuthz {
  return new CompiledAuthz(
    policy.rules.map((r) => ({
      anyIdentity: r.principals.includes("*"),
      principals: new Set(r.principals),
      methods: r.methods.length > 0 ? new Set(r.methods) : null,
      paths: r.paths.length > 0 ? r.paths : null,
    })),
  );
}

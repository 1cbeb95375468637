/**
 * Route conditions beyond the path prefix and headers (the protocol's `routeMatchSchema`): exact path, a path regex
 * anchored to the whole path, the method, and query parameters — compiled once per snapshot, checked per request.
 * A rule without any of them shares `NO_MORE`, so the common case costs one comparison.
 */
import { compilePathRegex, type RouteMatch } from "@trellis/protocol";

/** Conditions of a route rule beyond path prefix and headers (absent ones always hold). */
export interface MoreMatch {
  /** The path before any `?`, exactly. */
  readonly pathExact: string | null;
  /** Anchored (whole path, query excluded). */
  readonly pathRegex: RegExp | null;
  readonly method: string | null;
  /** Flat [name, value, …]: each parameter must be present with that value (after percent-decoding). */
  readonly query: string[];
}

export const NO_MORE: MoreMatch = { pathExact: null, pathRegex: null, method: null, query: [] };

export function pathOnly(target: string): string {
  const q = target.indexOf("?");
  return q === -1 ? target : target.slice(0, q);
}

export function queryHolds(target: string, want: string[]): boolean {
  const q = target.indexOf("?");
  if (q === -1) return false;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(target.slice(q + 1));
  } catch {
    return false;
  }
  for (let i = 0; i < want.length; i += 2) if (!params.getAll(want[i]).includes(want[i + 1])) return false;
  return true;
}

/** The compiled form of a rule's extra conditions; `NO_MORE` (the fast path) when it has none. */
export function compileMoreMatch(m: RouteMatch): MoreMatch {
  if (m.pathExact === undefined && m.pathRegex === undefined && m.method === undefined && (m.query ?? []).length === 0) return NO_MORE;
  const query: string[] = [];
  for (const q of m.query ?? []) query.push(q.name, q.value);
  return {
    pathExact: m.pathExact ?? null,
    pathRegex: m.pathRegex !== undefined ? compilePathRegex(m.pathRegex) : null,
    method: m.method ?? null,
    query,
  };
}

/**
 * Pure: "allow the callers seen in the last N minutes" — a service's authorization rules generated from the traffic
 * observed into it (as Kiali generates AuthorizationPolicies from its graph). Every mesh service that called it gets
 * an allow rule for its SPIFFE identity, unless an existing rule already lets it in; existing rules are kept (the
 * result only adds). Callers without a mesh identity (ingress, unknown) cannot be allowed by identity: they are
 * listed as such, since an allow-list denies them.
 */
import { type AuthzRule, spiffeIdOf } from "@trellis/protocol";
import { securityDiff } from "./policy-diff.ts";

/** Calls from one source (version) into the service in the window; `mtls` null when unknown (older rollups). */
export interface ObservedCaller {
  source: string;
  sourceVersion: string;
  requests: number;
  mtls: number | null;
}

export interface CallerVerdict {
  source: string;
  /** The identity the rule names; null for callers outside the mesh. */
  principal: string | null;
  requests: number;
  /** Share of its calls seen over mTLS, 0..100; null when unknown. */
  mtlsPct: number | null;
  status: "new-rule" | "already-allowed" | "no-identity";
  /** Why, in a sentence the panel shows. */
  note: string;
}

export interface GeneratedAuthz {
  /** The service's full rule list after applying (existing rules first, then the new ones). */
  rules: AuthzRule[];
  added: AuthzRule[];
  callers: CallerVerdict[];
  /** Readable diff, as the config history shows it (`+ allow spiffe://…`). */
  diff: string[];
}

/** Sources that carry no mesh identity. */
const NO_IDENTITY = new Set(["ingress", "unknown"]);

/** Whether `rule` lets every call of `principal` in (any method, any path). */
function admitsAll(rule: AuthzRule, principal: string): boolean {
  return (rule.principals.includes("*") || rule.principals.includes(principal)) && rule.methods.length === 0 && rule.paths.length === 0;
}

export function generateAuthzFromTraffic(args: {
  service: string;
  trustDomain: string;
  observed: readonly ObservedCaller[];
  current: readonly AuthzRule[];
  /** Sources with fewer calls than this in the window are left out (noise); default 1. */
  minRequests?: number;
}): GeneratedAuthz {
  const minRequests = args.minRequests ?? 1;
  const bySource = new Map<string, { requests: number; mtls: number | null }>();
  for (const o of args.observed) {
    const prev = bySource.get(o.source) ?? { requests: 0, mtls: 0 };
    bySource.set(o.source, {
      requests: prev.requests + o.requests,
      mtls: prev.mtls === null || o.mtls === null ? null : prev.mtls + o.mtls,
    });
  }
  const added: AuthzRule[] = [];
  const callers: CallerVerdict[] = [];
  for (const [source, seen] of [...bySource.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (seen.requests < minRequests) continue;
    const mtlsPct = seen.mtls === null || seen.requests === 0 ? null : Math.round((100 * seen.mtls) / seen.requests);
    if (NO_IDENTITY.has(source)) {
      callers.push({
        source,
        principal: null,
        requests: seen.requests,
        mtlsPct,
        status: "no-identity",
        note: "outside the mesh: no identity to allow; an allow-list denies these calls",
      });
      continue;
    }
    const principal = spiffeIdOf(args.trustDomain, source);
    if (args.current.some((r) => admitsAll(r, principal)) || added.some((r) => admitsAll(r, principal))) {
      callers.push({ source, principal, requests: seen.requests, mtlsPct, status: "already-allowed", note: "an existing rule allows it" });
      continue;
    }
    added.push({ principals: [principal], methods: [], paths: [] });
    callers.push({
      source,
      principal,
      requests: seen.requests,
      mtlsPct,
      status: "new-rule",
      note:
        mtlsPct !== null && mtlsPct < 100
          ? `${100 - mtlsPct}% of its calls came in plaintext: without mTLS it has no identity and is denied`
          : "allowed by its identity",
    });
  }
  const rules = [...args.current, ...added];
  return { rules, added, callers, diff: added.length === 0 ? [] : securityDiff({ authorization: [...args.current] }, { authorization: rules }) };
}

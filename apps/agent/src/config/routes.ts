/**
 * Compiles a validated MeshSnapshot into the structures the outbound stack reads per request: a map from service name
 * to a `ServiceRoute`, each with its split (which subset) and its target sets (which endpoints). Everything a request
 * needs — endpoint state, pool, telemetry edge — is resolved here once, not per request.
 */
import {
  type CircuitBreaker,
  type FaultInjection,
  type LoadBalancer,
  type MeshSnapshot,
  type MirrorPolicy,
  type MtlsMode,
  type OutlierDetection,
  type RetryPolicy,
  type SplitEntry,
  spiffeIdOf,
  UNKNOWN_VERSION,
} from "@trellis/protocol";
import { type CompiledAuthz, compileAuthz } from "../policy/authz.ts";
import { BreakerState } from "../policy/breaker.ts";
import { matchesPathPrefix } from "../policy/path-prefix.ts";
import { RetryRuntime } from "../policy/retry-policy.ts";
import { compileMoreMatch, type MoreMatch, NO_MORE, pathOnly, queryHolds } from "../policy/route-match.ts";
import type { EdgeGroup, EdgeRegistry } from "../telemetry/edges.ts";
import { EndpointRegistry, type EndpointState } from "../upstream/endpoints.ts";
import { canonical } from "./canonical.ts";

/** One endpoint as seen from one route: shared endpoint state plus this route's view (version, edge). */
export class Target {
  constructor(
    readonly ep: EndpointState,
    readonly version: string,
    readonly instanceId: string,
    readonly edge: EdgeGroup,
  ) {}
}

/** The endpoints a balancer chooses among: a whole service, or one subset (version) of it. */
export class TargetSet {
  /** Round-robin cursor. */
  rr = 0;
  constructor(
    /** The subset's version, or null for "all versions". */
    readonly version: string | null,
    readonly targets: Target[],
    /** Edge recorded when no target can be chosen. */
    readonly emptyEdge: EdgeGroup,
  ) {}
}

/** Where a share of the calls is mirrored (outbound/mirror.ts): one version of the service, its own telemetry edge. */
export class MirrorTarget {
  constructor(
    /** 0..100. */
    readonly percent: number,
    readonly set: TargetSet,
    /** The mirrored-copies edge (apart from the calls answered by that version). */
    readonly edge: EdgeGroup,
  ) {}
}

export interface SplitChoice {
  /** Cumulative weight bound (exclusive), 0..100. */
  upTo: number;
  set: TargetSet;
}

/** Picks a subset by weight (cumulative bounds). */
export function chooseFrom(split: SplitChoice[]): TargetSet {
  const r = Math.random() * 100;
  for (let i = 0; i < split.length; i++) if (r < split[i].upTo) return split[i].set;
  return split[split.length - 1].set;
}

/** A compiled route rule: match conditions (all must hold) and where matching calls go. */
export class RouteRuleMatch {
  constructor(
    readonly name: string,
    readonly pathPrefix: string | null,
    /** Flat [lower-case name, value, …]. */
    readonly headers: string[],
    readonly split: SplitChoice[],
    readonly more: MoreMatch = NO_MORE,
    readonly mirror: MirrorTarget | null = null,
  ) {}

  /**
   * `path` is the request target (path and query); the prefix matches whole segments (policy/path-prefix.ts). The
   * method is the request's as sent (methods are case-sensitive, RFC 9110).
   */
  matches(path: string, raw: string[], method = ""): boolean {
    if (this.pathPrefix !== null && !matchesPathPrefix(path, this.pathPrefix)) return false;
    const more = this.more;
    if (more !== NO_MORE) {
      if (more.method !== null && method !== more.method) return false;
      if (more.pathExact !== null && pathOnly(path) !== more.pathExact) return false;
      if (more.pathRegex !== null && !more.pathRegex.test(pathOnly(path))) return false;
      if (more.query.length > 0 && !queryHolds(path, more.query)) return false;
    }
    const want = this.headers;
    for (let i = 0; i < want.length; i += 2) {
      const name = want[i];
      let found = false;
      for (let k = 0; k < raw.length; k += 2) {
        const n = raw[k];
        if (n.length === name.length && raw[k + 1] === want[i + 1] && n.toLowerCase() === name) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
}

export class ServiceRoute {
  constructor(
    readonly name: string,
    readonly timeoutMs: number,
    readonly loadBalancer: LoadBalancer,
    readonly all: TargetSet,
    readonly split: SplitChoice[] | null,
    readonly rules: RouteRuleMatch[] | null = null,
    readonly retry: RetryRuntime | null = null,
    /** Limits and in-flight count; kept across snapshots while the policy is unchanged. */
    readonly breaker: BreakerState | null = null,
    readonly outlier: OutlierDetection | null = null,
    readonly fault: FaultInjection | null = null,
    /** A response body or tunnel that moves nothing for this long is cut; 0 = no idle bound of our own. */
    readonly idleTimeoutMs = 0,
    /** The service's mirror (a matching route's own mirror takes precedence). */
    readonly mirror: MirrorTarget | null = null,
  ) {}

  /** The split: which subset this call goes to (by weight). Balancing within it is a separate step. */
  chooseSubset(): TargetSet {
    const split = this.split;
    if (split === null) return this.all;
    return chooseFrom(split);
  }

  /** The first route rule that matches, or null (the default split applies). */
  matchRule(path: string, headers: string[], method = ""): RouteRuleMatch | null {
    const rules = this.rules;
    if (rules !== null) {
      for (let i = 0; i < rules.length; i++) if (rules[i].matches(path, headers, method)) return rules[i];
    }
    return null;
  }

  /** Routes first (the first rule that matches decides), then the default split. */
  route(path: string, headers: string[], method = ""): TargetSet {
    const rule = this.matchRule(path, headers, method);
    return rule !== null ? chooseFrom(rule.split) : this.chooseSubset();
  }
}

/** What this agent's inbound listener enforces for its own service. */
export class InboundPolicy {
  constructor(
    readonly mtls: MtlsMode,
    /** null: every caller is allowed. */
    readonly authz: CompiledAuthz | null,
    readonly trustDomain: string,
  ) {}
}

export class RouteTable {
  constructor(
    readonly version: number,
    readonly services: Map<string, ServiceRoute>,
    /** Every endpoint pool key the snapshot implies (address, plus the peer id for mTLS pools): the pools to keep. */
    readonly addresses: Set<string>,
    readonly inbound: InboundPolicy,
  ) {}
}

export interface Self {
  service: string;
  version: string;
}

/** The retry runtime for a policy: the previous one (its budget included) when the policy did not change. */
function retryFor(p: RetryPolicy | undefined, prev: RetryRuntime | null): RetryRuntime | null {
  if (!p || (p.attempts === 0 && p.perTryTimeoutMs === 0)) return null;
  const key = canonical(p);
  return prev !== null && prev.key === key ? prev : new RetryRuntime(p, key);
}

function breakerFor(p: CircuitBreaker | undefined, prev: BreakerState | null): BreakerState | null {
  if (!p) return null;
  const key = canonical(p);
  return prev !== null && prev.key === key ? prev : new BreakerState(p, key);
}

/**
 * `previous` (the table in force) lends its runtime state to services whose policy is unchanged: the retry budget and
 * the breaker's in-flight count. Endpoint state (load, EWMA, outlier counters) lives in the registry and always stays.
 */
export function compileRoutes(
  snapshot: MeshSnapshot,
  self: Self,
  endpoints: EndpointRegistry,
  edges: EdgeRegistry,
  previous: RouteTable | null = null,
): RouteTable {
  const services = new Map<string, ServiceRoute>();
  const addresses = new Set<string>();
  let inbound = new InboundPolicy("DISABLE", null, snapshot.trustDomain);
  for (const svc of snapshot.services) {
    if (svc.name === self.service)
      inbound = new InboundPolicy(svc.mtls, svc.authorization ? compileAuthz(svc.authorization) : null, snapshot.trustDomain);
    // Callers use mTLS whenever the destination accepts it; the pool checks the peer is that service.
    const peerId = svc.mtls === "DISABLE" ? null : spiffeIdOf(snapshot.trustDomain, svc.name);
    const edgeFor = (version: string) => edges.get(self.service, self.version, svc.name, version);
    const targets: Target[] = [];
    const seen = new Set<string>();
    const connections = svc.circuitBreaker?.maxConnections ?? null;
    for (const e of svc.endpoints) {
      if (seen.has(e.address)) continue; // the same address listed twice would double its weight
      seen.add(e.address);
      addresses.add(EndpointRegistry.key(e.address, peerId));
      targets.push(new Target(endpoints.acquire(e.address, peerId, connections), e.version, e.instanceId, edgeFor(e.version)));
    }
    const all = new TargetSet(null, targets, edgeFor(UNKNOWN_VERSION));
    // One target set per version, shared by the split and the routes (round-robin cursors included).
    const subsets = new Map<string, TargetSet>();
    const subsetOf = (version: string): TargetSet => {
      let set = subsets.get(version);
      if (set === undefined) {
        set = new TargetSet(
          version,
          targets.filter((t) => t.version === version),
          edgeFor(version),
        );
        subsets.set(version, set);
      }
      return set;
    };
    const compileSplit = (entries: SplitEntry[] | undefined): SplitChoice[] | null => {
      if (!entries || entries.length === 0) return null;
      const out: SplitChoice[] = [];
      let cumulative = 0;
      for (const entry of entries) {
        if (entry.weight === 0) continue;
        cumulative += entry.weight;
        out.push({ upTo: cumulative, set: subsetOf(entry.version) });
      }
      return out.length === 0 ? null : out;
    };
    const mirrorOf = (m: MirrorPolicy | undefined): MirrorTarget | null =>
      m === undefined ? null : new MirrorTarget(m.percent, subsetOf(m.version), edges.get(self.service, self.version, svc.name, m.version, true));
    const split = compileSplit(svc.split);
    let rules: RouteRuleMatch[] | null = null;
    if (svc.routes && svc.routes.length > 0) {
      rules = svc.routes.map((r, i) => {
        const to = compileSplit(r.version !== undefined ? [{ version: r.version, weight: 100 }] : r.split);
        if (to === null) throw new Error(`services.${svc.name}.routes.${i}: routes nowhere (every weight is 0)`);
        const headers: string[] = [];
        for (const h of r.match.headers ?? []) headers.push(h.name.toLowerCase(), h.value);
        return new RouteRuleMatch(r.name ?? `route-${i}`, r.match.pathPrefix ?? null, headers, to, compileMoreMatch(r.match), mirrorOf(r.mirror));
      });
    }
    const prev = previous?.services.get(svc.name);
    services.set(
      svc.name,
      new ServiceRoute(
        svc.name,
        svc.timeoutMs,
        svc.loadBalancer,
        all,
        split,
        rules,
        retryFor(svc.retries, prev?.retry ?? null),
        breakerFor(svc.circuitBreaker, prev?.breaker ?? null),
        svc.outlierDetection ?? null,
        svc.faultInjection && (svc.faultInjection.abort || svc.faultInjection.delay) ? svc.faultInjection : null,
        svc.idleTimeoutMs ?? 0,
        mirrorOf(svc.mirror),
      ),
    );
  }
  return new RouteTable(snapshot.version, services, addresses, inbound);
}

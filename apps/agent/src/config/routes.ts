/**
 * Compiles a validated MeshSnapshot into the structures the outbound stack reads per request: a map from service name
 * to a `ServiceRoute`, each with its split (which subset) and its target sets (which endpoints). Everything a request
 * needs — endpoint state, pool, telemetry edge — is resolved here once, not per request.
 */
import { type LoadBalancer, type MeshSnapshot, type MtlsMode, UNKNOWN_VERSION, spiffeIdOf } from "@trellis/protocol";
import { type CompiledAuthz, compileAuthz } from "../inbound/authz.ts";
import type { EdgeGroup, EdgeRegistry } from "../telemetry/edges.ts";
import { EndpointRegistry, type EndpointState } from "../upstream/endpoints.ts";

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

export interface SplitChoice {
  /** Cumulative weight bound (exclusive), 0..100. */
  upTo: number;
  set: TargetSet;
}

export class ServiceRoute {
  constructor(
    readonly name: string,
    readonly timeoutMs: number,
    readonly loadBalancer: LoadBalancer,
    readonly all: TargetSet,
    readonly split: SplitChoice[] | null,
  ) {}

  /** The split: which subset this call goes to (by weight). Balancing within it is a separate step. */
  chooseSubset(): TargetSet {
    const split = this.split;
    if (split === null) return this.all;
    const r = Math.random() * 100;
    for (let i = 0; i < split.length; i++) if (r < split[i].upTo) return split[i].set;
    return split[split.length - 1].set;
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

export function compileRoutes(snapshot: MeshSnapshot, self: Self, endpoints: EndpointRegistry, edges: EdgeRegistry): RouteTable {
  const services = new Map<string, ServiceRoute>();
  const addresses = new Set<string>();
  let inbound = new InboundPolicy("DISABLE", null, snapshot.trustDomain);
  for (const svc of snapshot.services) {
    if (svc.name === self.service) inbound = new InboundPolicy(svc.mtls, svc.authorization ? compileAuthz(svc.authorization) : null, snapshot.trustDomain);
    // Callers use mTLS whenever the destination accepts it; the pool checks the peer is that service.
    const peerId = svc.mtls === "DISABLE" ? null : spiffeIdOf(snapshot.trustDomain, svc.name);
    const edgeFor = (version: string) => edges.get(self.service, self.version, svc.name, version);
    const targets: Target[] = [];
    const seen = new Set<string>();
    for (const e of svc.endpoints) {
      if (seen.has(e.address)) continue; // the same address listed twice would double its weight
      seen.add(e.address);
      addresses.add(EndpointRegistry.key(e.address, peerId));
      targets.push(new Target(endpoints.acquire(e.address, peerId), e.version, e.instanceId, edgeFor(e.version)));
    }
    const all = new TargetSet(null, targets, edgeFor(UNKNOWN_VERSION));
    let split: SplitChoice[] | null = null;
    if (svc.split && svc.split.length > 0) {
      split = [];
      let cumulative = 0;
      for (const entry of svc.split) {
        if (entry.weight === 0) continue;
        cumulative += entry.weight;
        const subset = new TargetSet(
          entry.version,
          targets.filter((t) => t.version === entry.version),
          edgeFor(entry.version),
        );
        split.push({ upTo: cumulative, set: subset });
      }
      if (split.length === 0) split = null;
    }
    services.set(svc.name, new ServiceRoute(svc.name, svc.timeoutMs, svc.loadBalancer, all, split));
  }
  return new RouteTable(snapshot.version, services, addresses, inbound);
}

/**
 * Pure: the mesh's topology (every service, its versions, its live endpoints) -> the MeshSnapshot one agent gets.
 * Every snapshot is validated with the protocol's meshSnapshotSchema before it leaves the console.
 */
import {
  type AuthzRule,
  type Endpoint,
  type MeshSnapshot,
  type MtlsMode,
  meshSnapshotSchema,
  policyVersions,
  type ServicePolicy,
  serviceConfigSchema,
} from "@trellis/protocol";

export interface TopologyService {
  name: string;
  versions: string[];
  endpoints: Endpoint[];
  /** The service's traffic policy (split, routes, timeout, retries, breaker, outlier detection, LB, faults). */
  policy?: ServicePolicy;
  /** Effective mTLS mode (absent = DISABLE). */
  mtls?: MtlsMode;
  /** Authorization rules (absent = every caller allowed). */
  authorization?: AuthzRule[];
}

/** Security policies per service name, as stored (see repositories/security.ts). */
export interface SecurityPolicies {
  mtls: Map<string, MtlsMode>;
  authz: Map<string, AuthzRule[]>;
}

export interface EndpointSource {
  instanceId: string;
  service: string;
  version: string;
  address: string;
}

/**
 * Known services and versions + live endpoints (connected instances, plus instances still in their post-restart
 * grace) -> a canonical, sorted topology. An endpoint whose service or version is not registered adds it.
 */
export function buildTopology(
  services: { name: string; versions: { version: string }[] | string[] }[],
  endpoints: EndpointSource[],
  policies: Map<string, ServicePolicy> = new Map(),
  security?: SecurityPolicies,
): TopologyService[] {
  const byName = new Map<string, { versions: Set<string>; endpoints: Map<string, Endpoint> }>();
  const ensure = (name: string) => {
    let s = byName.get(name);
    if (!s) {
      s = { versions: new Set(), endpoints: new Map() };
      byName.set(name, s);
    }
    return s;
  };
  for (const svc of services) {
    const s = ensure(svc.name);
    for (const v of svc.versions) s.versions.add(typeof v === "string" ? v : v.version);
  }
  for (const ep of endpoints) {
    const s = ensure(ep.service);
    s.versions.add(ep.version);
    s.endpoints.set(ep.instanceId, { address: ep.address, version: ep.version, instanceId: ep.instanceId });
  }
  // A policy applies to a service the mesh knows; the versions it names are listed even before one registers (a
  // split to a version without instances then answers no-healthy-endpoints for its share, honestly).
  for (const [name, policy] of policies) {
    const s = byName.get(name);
    if (s) for (const v of policyVersions(policy)) s.versions.add(v);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, s]) => {
      const t: TopologyService = {
        name,
        versions: [...s.versions].sort(),
        endpoints: [...s.endpoints.values()].sort((a, b) =>
          a.address === b.address ? (a.instanceId < b.instanceId ? -1 : 1) : a.address < b.address ? -1 : 1,
        ),
      };
      const policy = policies.get(name);
      if (policy && Object.keys(policy).length > 0) t.policy = policy;
      const mode = security?.mtls.get(name);
      if (mode && mode !== "DISABLE") t.mtls = mode;
      const rules = security?.authz.get(name);
      if (rules && rules.length > 0) t.authorization = rules;
      return t;
    });
}

/** Canonical key of a topology: equal keys mean equal snapshots (apart from version and issuedAt). */
export function topologyKey(topology: TopologyService[]): string {
  return JSON.stringify(topology);
}

export interface SnapshotArgs {
  version: number;
  service: string;
  topology: TopologyService[];
  issuedAt: Date;
  /** Tracing policy (sampling rate, slow thresholds); protocol defaults when absent. */
  telemetry?: { sampleRate: number; slowThresholdMs: number; slowThresholdMsByService: Record<string, number> };
  /**
   * Whose authorization rules the snapshot carries: only the agent's own service's (the default), or every
   * service's, so that one services array serves every agent of the version (an agent enforces only its own rules).
   */
  authorizationOf?: "own" | "all";
}

/**
 * The snapshot for an agent of `service`: its own service and every service of the mesh (all of them may be called),
 * with versions, endpoints and policies. Throws if invalid.
 */
export function buildSnapshot(args: SnapshotArgs): MeshSnapshot {
  const services = args.topology.map((s) => ({
    ...(s.policy ?? {}),
    name: s.name,
    versions: [...s.versions],
    endpoints: s.endpoints.map((e) => ({ ...e })),
    mtls: s.mtls ?? "DISABLE",
    // The agent's inbound side enforces its own service's authorization policy.
    ...((args.authorizationOf === "all" || s.name === args.service) && s.authorization ? { authorization: { rules: s.authorization } } : {}),
  }));
  if (!services.some((s) => s.name === args.service)) {
    services.push({ name: args.service, versions: [], endpoints: [], mtls: "DISABLE" });
  }
  return meshSnapshotSchema.parse({
    version: args.version,
    service: args.service,
    services,
    ...(args.telemetry
      ? {
          telemetry: {
            intervalMs: 1000,
            sampleRate: args.telemetry.sampleRate,
            slowThresholdMs: args.telemetry.slowThresholdMs,
            slowThresholdMsByService: { ...args.telemetry.slowThresholdMsByService },
          },
        }
      : {}),
    issuedAt: args.issuedAt.toISOString(),
  });
}

/**
 * Serializes the snapshots of one config version. Every agent of the mesh gets the same services array (with each
 * service's authorization rules), so it is built, validated and serialized once per version — O(services) — and each
 * agent's snapshot is that JSON with its own `service` field, instead of O(agents × services) per push round.
 * A service not in the topology (an agent that registered after the version was cut: most of a fleet joining at
 * once) gets the same JSON with its own empty entry appended, as `buildSnapshot` would add it — validated alone.
 */
export function snapshotSerializer(args: Omit<SnapshotArgs, "service" | "authorizationOf">): (service: string) => string {
  const names = new Set(args.topology.map((s) => s.name));
  if (names.size === 0) return (service) => JSON.stringify(buildSnapshot({ ...args, service }));
  const shared = buildSnapshot({ ...args, service: args.topology[0].name, authorizationOf: "all" });
  // Placeholders keep the field order and every other field exactly as JSON.stringify writes them.
  const marked = JSON.stringify({ ...shared, service: "\u0000SERVICE\u0000", services: [...shared.services, "\u0000EXTRA\u0000"] });
  const [head, rest] = marked.split('"\\u0000SERVICE\\u0000"');
  const [middle, tail] = rest.split(',"\\u0000EXTRA\\u0000"');
  return (service) => {
    if (names.has(service)) return `${head}${JSON.stringify(service)}${middle}${tail}`;
    const own = serviceConfigSchema.parse({ name: service, versions: [], endpoints: [], mtls: "DISABLE" });
    return `${head}${JSON.stringify(service)}${middle},${JSON.stringify(own)}${tail}`;
  };
}

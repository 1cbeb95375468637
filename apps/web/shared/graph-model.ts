/**
 * Pure view model of the live service graph: registry (services, versions, instance counts) + aggregated telemetry
 * pairs -> nodes (services with their versions as children) and edges (per service@version pair).
 */
import { INGRESS_SOURCE, UNKNOWN_VERSION } from "@trellis/protocol";
import { type PairStats, statsOf, sumPairs } from "./edge-stats.ts";
import { healthOf } from "./health.ts";
import type { LiveEdge, LiveGraph, LiveNode, LiveStats } from "./live-types.ts";

export interface ServiceInfo {
  name: string;
  versions: { version: string; instances: number; connected: number }[];
}

export interface GraphInput {
  ts: number;
  windowSeconds: number;
  services: ServiceInfo[];
  /** Aggregated over the window (see aggregatePairs). */
  pairs: PairStats[];
}

export const serviceNodeId = (service: string): string => `s:${service}`;
export const versionNodeId = (service: string, version: string): string => `v:${service}@${version}`;
export const edgeId = (p: Pick<PairStats, "source" | "sourceVersion" | "destination" | "destinationVersion">): string =>
  `e:${p.source}@${p.sourceVersion}->${p.destination}@${p.destinationVersion}`;

/** Node an edge end attaches to: the version node, or the service node for ingress / an unknown version. */
function endpointNode(service: string, version: string): string {
  if (service === INGRESS_SOURCE || version === UNKNOWN_VERSION || !version) return serviceNodeId(service);
  return versionNodeId(service, version);
}

export function formatRps(rps: number): string {
  if (rps === 0) return "0";
  if (rps < 10) return rps.toFixed(1);
  return String(Math.round(rps));
}

export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatPct(pct: number): string {
  if (pct === 0) return "0%";
  if (pct < 10) return `${pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}

/** gRPC status codes as an edge shows them: `gRPC OK 120 · UNAVAILABLE 3` (most frequent first). */
const GRPC_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** A gRPC status code's name (`14` → `UNAVAILABLE`); the number itself for a code gRPC does not define. */
export function grpcStatusName(code: number | string): string {
  return GRPC_NAMES[Number(code)] ?? String(code);
}

export function grpcLabel(codes: Record<string, number>): string {
  const parts = Object.entries(codes)
    .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))
    .map(([code, n]) => `${grpcStatusName(code)} ${n}`);
  return `gRPC ${parts.join(" · ")}`;
}

/**
 * `12 rps · 4.1 ms · 0.5%` (rps, p99, error %), prefixed with a lock when at least half the calls ran over mTLS.
 * Mirrored copies: `mirror · …` when the edge carries only copies, `· 40% mirrored` when some of its calls are; gRPC
 * status codes on a second line.
 */
export function edgeLabel(
  s: Pick<LiveStats, "rps" | "p99Ms" | "errorPct" | "mtlsPct">,
  sharePct?: number,
  connections = 0,
  mirroredPct = 0,
  grpcStatus?: Record<string, number>,
): string {
  let text = `${formatRps(s.rps)} rps · ${formatMs(s.p99Ms)} · ${formatPct(s.errorPct)}`;
  if (mirroredPct >= 100) text = `mirror · ${text}`;
  else {
    if (sharePct !== undefined && sharePct < 100) text += ` · ${Math.round(sharePct)}% split`;
    if (mirroredPct > 0) text += ` · ${formatPct(mirroredPct)} mirrored`;
  }
  if (connections > 0) text += ` · ${connections} open`;
  if (grpcStatus !== undefined) text += `\n${grpcLabel(grpcStatus)}`;
  return s.mtlsPct >= 50 ? `🔒 ${text}` : text;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function buildLiveGraph(input: GraphInput): LiveGraph {
  const { windowSeconds } = input;
  // service -> version -> {instances, connected}
  const services = new Map<string, Map<string, { instances: number; connected: number }>>();
  const ensure = (service: string, version?: string) => {
    let versions = services.get(service);
    if (!versions) {
      versions = new Map();
      services.set(service, versions);
    }
    if (version && version !== UNKNOWN_VERSION && service !== INGRESS_SOURCE && !versions.has(version)) {
      versions.set(version, { instances: 0, connected: 0 });
    }
  };
  for (const s of input.services) {
    ensure(s.name);
    for (const v of s.versions) {
      ensure(s.name, v.version);
      const cur = services.get(s.name)!.get(v.version)!;
      cur.instances += v.instances;
      cur.connected += v.connected;
    }
  }
  for (const p of input.pairs) {
    if (p.requests === 0) continue;
    ensure(p.source, p.sourceVersion);
    ensure(p.destination, p.destinationVersion);
  }

  const nodes: LiveNode[] = [];
  for (const [service, versions] of services) {
    const isIngress = service === INGRESS_SOURCE;
    const relevant = input.pairs.filter((p) => (isIngress ? p.source === service : p.destination === service));
    const total = statsOf(sumPairs(relevant), windowSeconds);
    let instances = 0;
    let connected = 0;
    for (const [version, counts] of versions) {
      instances += counts.instances;
      connected += counts.connected;
      const inbound = statsOf(sumPairs(relevant.filter((p) => p.destinationVersion === version)), windowSeconds);
      nodes.push({
        id: versionNodeId(service, version),
        kind: "version",
        label: version,
        service,
        version,
        parent: serviceNodeId(service),
        health: healthOf(inbound.requests, inbound.errorPct),
        instances: counts.instances,
        connected: counts.connected,
        ...inbound,
      });
    }
    nodes.push({
      id: serviceNodeId(service),
      kind: isIngress ? "ingress" : "service",
      label: service,
      service,
      version: null,
      parent: null,
      health: healthOf(total.requests, total.errorPct),
      instances,
      connected,
      ...total,
    });
  }

  // Calls from each source (service@version) to each destination service, across the destination's versions.
  // Mirrored copies are not part of the split: they are left out of the shares.
  const callerTotals = new Map<string, number>();
  const callerKey = (p: PairStats) => `${p.source}@${p.sourceVersion}->${p.destination}`;
  const answered = (p: PairStats) => p.requests - (p.mirrored ?? 0);
  for (const p of input.pairs) callerTotals.set(callerKey(p), (callerTotals.get(callerKey(p)) ?? 0) + answered(p));

  const edges: LiveEdge[] = [];
  for (const p of input.pairs) {
    const connections = p.connectionsOpen ?? 0;
    // An edge with open tunnels (WebSockets) stays on the graph while they are open, new calls or not.
    if (p.requests === 0 && connections === 0) continue;
    const stats = statsOf(p, windowSeconds);
    const total = callerTotals.get(callerKey(p)) ?? 0;
    const share = total > 0 ? answered(p) / total : 0;
    const sharePct = Math.round(share * 1000) / 10;
    const mirrored = p.mirrored ?? 0;
    const mirroredPct = p.requests > 0 ? (mirrored / p.requests) * 100 : 0;
    edges.push({
      id: edgeId(p),
      source: p.source,
      sourceVersion: p.sourceVersion,
      destination: p.destination,
      destinationVersion: p.destinationVersion,
      sourceNode: endpointNode(p.source, p.sourceVersion),
      targetNode: endpointNode(p.destination, p.destinationVersion),
      health: healthOf(stats.requests, stats.errorPct),
      share,
      sharePct,
      connections,
      ...(p.grpcStatus !== undefined ? { grpcStatus: p.grpcStatus } : {}),
      mirrored,
      mirror: p.requests > 0 && mirrored === p.requests,
      label: edgeLabel(stats, sharePct, connections, mirroredPct, p.grpcStatus),
      ...stats,
    });
  }

  nodes.sort(byId);
  edges.sort(byId);
  return { type: "graph", ts: input.ts, windowSeconds, nodes, edges };
}

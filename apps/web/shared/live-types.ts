/**
 * The live service graph as the console serves it: the `/ws/live` frame and the `graph.live` tRPC result share this
 * shape. Plain JSON (no transformer): numbers, strings, booleans, null.
 */
export type Health = "healthy" | "warning" | "critical" | "idle";

export interface LiveStats {
  /** Requests per second over the graph's window. */
  rps: number;
  /** Median / 99th percentile latency in milliseconds (from the merged fixed-bucket histogram). */
  p50Ms: number;
  p99Ms: number;
  /** Failed requests (5xx and proxy-made failures) as a share of requests, 0..1 (errorPct = errorRate × 100). */
  errorRate: number;
  /** The same as a percentage, 0..100. */
  errorPct: number;
  /** Requests that ran over mTLS as a share of requests, 0..1. */
  mtlsShare: number;
  /** The same as a percentage, 0..100. */
  mtlsPct: number;
  /** Raw counts over the window. */
  requests: number;
  errors: number;
}

export interface LiveNode extends LiveStats {
  /** `s:<service>` for a service, `v:<service>@<version>` for a version, `s:ingress` for outside traffic. */
  id: string;
  kind: "service" | "version" | "ingress";
  label: string;
  service: string;
  version: string | null;
  /** The service node a version node sits in (cytoscape compound parent). */
  parent: string | null;
  /** From the error rate of the traffic this node receives (ingress: sends). No traffic: idle. */
  health: Health;
  /** Known instances (agents) and how many are connected now. */
  instances: number;
  connected: number;
}

export interface LiveEdge extends LiveStats {
  /** `e:<source>@<sourceVersion>-><destination>@<destinationVersion>`. */
  id: string;
  /** Calling service (`ingress` for traffic from outside the mesh) and its version. */
  source: string;
  sourceVersion: string;
  /** Called service and the version (subset) that served the call. */
  destination: string;
  destinationVersion: string;
  /** Graph node ids the edge joins. A version of `unknown` (or ingress) attaches to the service node itself. */
  sourceNode: string;
  targetNode: string;
  health: Health;
  /**
   * This edge's share of the calls from its source (service@version) to the destination service, 0..1 / 0..100:
   * the live traffic split across the destination's versions.
   */
  share: number;
  sharePct: number;
  /** Tunnels (WebSockets) open over the window (the largest count an agent reported); 0 when none. */
  connections: number;
  /** gRPC calls over the window by gRPC status code (`{"0": 120, "14": 3}`); absent on edges without gRPC. */
  grpcStatus?: Record<string, number>;
  /** Of `requests`, the mirrored copies (traffic mirroring: fire and forget, answers discarded); 0 when none. */
  mirrored: number;
  /** Every call on the edge in the window was a mirrored copy: drawn apart (dotted, "mirror"), not part of the split. */
  mirror: boolean;
  /**
   * `rps · p99 · err%` (plus `· 25% split` when the calls go to several versions), with a lock when most ran over mTLS;
   * `mirror · …` for an edge of mirrored copies.
   */
  label: string;
}

export interface LiveGraph {
  type: "graph";
  /** When the graph was computed, unix ms. */
  ts: number;
  /** Window the rates are computed over, seconds (the last complete seconds before `ts`). */
  windowSeconds: number;
  nodes: LiveNode[];
  edges: LiveEdge[];
}

/**
 * The services overview (Kiali's "Services" list): one row per registered service from the registry, its agents'
 * sync states, its mTLS policy, the live graph's inbound stats and an rps trend; and the table's sort.
 */
import type { MtlsMode } from "@trellis/protocol";
import { serviceNodeId } from "./graph-model.ts";
import type { Health, LiveGraph } from "./live-types.ts";

/** Where a service's connected agents are with the config: the worst of them (NONE: no agent connected). */
export type ServiceSyncState = "SYNCED" | "STALE" | "NACKED" | "NONE";

export interface ServiceAgents {
  name: string;
  versions: string[];
  /** Every known instance with its connection and last recorded sync state (SYNCED, STALE, NACKED, UNKNOWN). */
  agents: { connected: boolean; syncState: string }[];
}

export interface OverviewInput {
  services: ServiceAgents[];
  /** Services' own mTLS modes; the others inherit `meshDefault`. */
  mtlsModes: ReadonlyMap<string, MtlsMode>;
  meshDefault: MtlsMode;
  graph: LiveGraph;
  /** Inbound rps per bin, oldest first (see rps-trend.ts); a service without traffic gets zeros of `trendBins`. */
  trends: ReadonlyMap<string, number[]>;
  trendBins: number;
}

export interface ServiceRow {
  name: string;
  versions: string[];
  instances: number;
  connected: number;
  health: Health;
  /** Inbound, over the live graph's window. */
  rps: number;
  errorPct: number;
  p99Ms: number;
  mtls: {
    mode: MtlsMode;
    /** The mesh default applies (no policy of its own). */
    inherited: boolean;
    /** Share of inbound calls that ran over mTLS (observed); null without traffic. */
    observedPct: number | null;
  };
  sync: { state: ServiceSyncState; synced: number; stale: number; nacked: number };
  trend: number[];
}

export function syncSummary(agents: ServiceAgents["agents"]): ServiceRow["sync"] {
  let synced = 0;
  let stale = 0;
  let nacked = 0;
  for (const a of agents) {
    if (!a.connected) continue;
    if (a.syncState === "SYNCED") synced++;
    else if (a.syncState === "NACKED") nacked++;
    else stale++; // STALE, or UNKNOWN: sent nothing acked yet
  }
  const state: ServiceSyncState = nacked > 0 ? "NACKED" : stale > 0 ? "STALE" : synced > 0 ? "SYNCED" : "NONE";
  return { state, synced, stale, nacked };
}

export function buildServiceRows(input: OverviewInput): ServiceRow[] {
  const nodes = new Map(input.graph.nodes.map((n) => [n.id, n]));
  return input.services.map((s) => {
    const node = nodes.get(serviceNodeId(s.name));
    const own = input.mtlsModes.get(s.name);
    const requests = node?.requests ?? 0;
    return {
      name: s.name,
      versions: s.versions,
      instances: s.agents.length,
      connected: s.agents.filter((a) => a.connected).length,
      health: node?.health ?? "idle",
      rps: node?.rps ?? 0,
      errorPct: requests > 0 ? (node?.errorPct ?? 0) : 0,
      p99Ms: requests > 0 ? (node?.p99Ms ?? 0) : 0,
      mtls: { mode: own ?? input.meshDefault, inherited: own === undefined, observedPct: requests > 0 ? (node?.mtlsPct ?? 0) : null },
      sync: syncSummary(s.agents),
      trend: input.trends.get(s.name) ?? new Array<number>(input.trendBins).fill(0),
    };
  });
}

export const SORT_KEYS = ["name", "health", "rps", "errorPct", "p99Ms", "mtls", "versions", "sync"] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = "asc" | "desc";

const HEALTH_RANK: Record<Health, number> = { idle: 0, healthy: 1, warning: 2, critical: 3 };
const MTLS_RANK: Record<MtlsMode, number> = { DISABLE: 0, PERMISSIVE: 1, STRICT: 2 };
const SYNC_RANK: Record<ServiceSyncState, number> = { NONE: 0, SYNCED: 1, STALE: 2, NACKED: 3 };

/** The value a column sorts by: numbers (ranks for states), names as strings. */
function sortValue(r: ServiceRow, key: SortKey): number | string {
  switch (key) {
    case "name":
      return r.name;
    case "health":
      return HEALTH_RANK[r.health];
    case "rps":
      return r.rps;
    case "errorPct":
      return r.errorPct;
    case "p99Ms":
      return r.p99Ms;
    case "mtls":
      return MTLS_RANK[r.mtls.mode] * 1000 + (r.mtls.observedPct ?? -1);
    case "versions":
      return r.versions.length;
    case "sync":
      return SYNC_RANK[r.sync.state];
  }
}

/** A sorted copy; ties (and the name column) order by name ascending so the order is stable across refreshes. */
export function sortServiceRows(rows: readonly ServiceRow[], key: SortKey, dir: SortDir): ServiceRow[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    const c = typeof va === "string" ? va.localeCompare(vb as string) : va - (vb as number);
    return c !== 0 ? sign * c : a.name.localeCompare(b.name);
  });
}

/** The direction a click on a column header sorts in: flips the current column, starts numbers descending. */
export function nextSort(current: { key: SortKey; dir: SortDir }, clicked: SortKey): { key: SortKey; dir: SortDir } {
  if (current.key === clicked) return { key: clicked, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key: clicked, dir: clicked === "name" ? "asc" : "desc" };
}

/**
 * Pure: two live graphs -> the cytoscape element changes that turn one into the other (added / removed / changed
 * data), and whether the topology (node or edge set) changed, which is the only time the layout is re-run.
 */
import type { LiveEdge, LiveGraph, LiveNode } from "../../shared/live-types.ts";

export type ElementData = Record<string, string | number | boolean | null>;
export interface ElementDef {
  group: "nodes" | "edges";
  data: ElementData & { id: string };
}
export interface ElementDiff {
  /** In insertion order: parents before children, nodes before edges. */
  add: ElementDef[];
  /** Ids; edges before nodes. */
  remove: string[];
  /** Only the fields that changed. */
  update: { id: string; data: ElementData }[];
  topologyChanged: boolean;
}

export function nodeElement(n: LiveNode): ElementDef {
  const data: ElementDef["data"] = {
    id: n.id,
    label: n.kind === "version" ? `${n.label}` : n.label,
    kind: n.kind,
    service: n.service,
    version: n.version,
    health: n.health,
    rps: n.rps,
    p99Ms: n.p99Ms,
    errorPct: n.errorPct,
    instances: n.instances,
    connected: n.connected,
  };
  if (n.parent) data.parent = n.parent;
  return { group: "nodes", data };
}

export function edgeElement(e: LiveEdge): ElementDef {
  return {
    group: "edges",
    data: {
      id: e.id,
      source: e.sourceNode,
      target: e.targetNode,
      label: e.label,
      health: e.health,
      rps: e.rps,
      p50Ms: e.p50Ms,
      p99Ms: e.p99Ms,
      errorPct: e.errorPct,
      mtlsPct: e.mtlsPct,
      mtls: e.mtlsPct >= 50,
      sharePct: e.sharePct,
      mirror: e.mirror,
    },
  };
}

/** Every element of a graph, parents first, then children, then edges. */
export function toElements(g: LiveGraph): ElementDef[] {
  const parents = g.nodes.filter((n) => !n.parent).map(nodeElement);
  const children = g.nodes.filter((n) => n.parent).map(nodeElement);
  return [...parents, ...children, ...g.edges.map(edgeElement)];
}

/** Structural fields: a change here means remove + add (cytoscape cannot re-parent or re-wire by data). */
const STRUCTURAL = new Set(["id", "parent", "source", "target"]);

export function diffGraph(prev: LiveGraph | null, next: LiveGraph): ElementDiff {
  const before = new Map((prev ? toElements(prev) : []).map((el) => [el.data.id, el]));
  const after = toElements(next);
  const afterIds = new Set(after.map((el) => el.data.id));
  const add: ElementDef[] = [];
  const update: ElementDiff["update"] = [];
  const removeEdges: string[] = [];
  const removeNodes: string[] = [];

  for (const [id, el] of before) {
    if (!afterIds.has(id)) (el.group === "edges" ? removeEdges : removeNodes).push(id);
  }
  for (const el of after) {
    const old = before.get(el.data.id);
    if (!old) {
      add.push(el);
      continue;
    }
    const structural = [...STRUCTURAL].some((k) => (old.data[k] ?? null) !== (el.data[k] ?? null));
    if (structural || old.group !== el.group) {
      (old.group === "edges" ? removeEdges : removeNodes).push(el.data.id);
      add.push(el);
      continue;
    }
    const changed: ElementData = {};
    let any = false;
    for (const [k, v] of Object.entries(el.data)) {
      if (STRUCTURAL.has(k)) continue;
      if (old.data[k] !== v) {
        changed[k] = v;
        any = true;
      }
    }
    if (any) update.push({ id: el.data.id, data: changed });
  }
  const remove = [...removeEdges, ...removeNodes];
  return { add, remove, update, topologyChanged: add.length > 0 || remove.length > 0 };
}

/**
 * Pure, deterministic layered layout for the service graph: services flow left to right by call depth (ingress first),
 * versions are stacked inside their service box. Returns positions for the leaf nodes (version nodes and services
 * without versions); cytoscape derives each compound service box from its children (`preset` layout).
 *
 * - Cycles are broken by DFS back edges (ignored for ranking).
 * - Rank = longest path from a root; within a column services are ordered by the barycenter of their callers.
 * - Services with no traffic at all sit in a grid below (or alone in a grid when there is no traffic anywhere).
 */
import type { LiveGraph } from "../../shared/live-types.ts";

export interface Position {
  x: number;
  y: number;
}

export interface LayoutMetrics {
  columnGap: number;
  rowGap: number;
  versionHeight: number;
  versionGap: number;
  servicePadding: number;
}

export const defaultLayoutMetrics: LayoutMetrics = {
  columnGap: 300,
  rowGap: 70,
  versionHeight: 26,
  versionGap: 14,
  servicePadding: 30,
};

interface Box {
  id: string;
  children: string[];
  height: number;
}

export function layeredLayout(graph: LiveGraph, m: LayoutMetrics = defaultLayoutMetrics): Record<string, Position> {
  const boxes = new Map<string, Box>();
  for (const n of graph.nodes) if (!n.parent) boxes.set(n.id, { id: n.id, children: [], height: 0 });
  for (const n of graph.nodes) if (n.parent) boxes.get(n.parent)?.children.push(n.id);
  for (const b of boxes.values()) {
    b.children.sort();
    const k = Math.max(1, b.children.length);
    b.height = k * m.versionHeight + (k - 1) * m.versionGap + (b.children.length ? m.servicePadding : 0);
  }
  const parentOf = new Map(graph.nodes.map((n) => [n.id, n.parent ?? n.id]));

  // Service-level edges (deduplicated, no self loops).
  const out = new Map<string, Set<string>>();
  const inc = new Map<string, Set<string>>();
  for (const id of boxes.keys()) {
    out.set(id, new Set());
    inc.set(id, new Set());
  }
  for (const e of graph.edges) {
    const a = parentOf.get(e.sourceNode);
    const b = parentOf.get(e.targetNode);
    if (!a || !b || a === b || !boxes.has(a) || !boxes.has(b)) continue;
    out.get(a)!.add(b);
    inc.get(b)!.add(a);
  }

  const ids = [...boxes.keys()].sort((a, b) => (a === "s:ingress" ? -1 : b === "s:ingress" ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const connected = ids.filter((id) => out.get(id)!.size > 0 || inc.get(id)!.size > 0);
  const isolated = ids.filter((id) => out.get(id)!.size === 0 && inc.get(id)!.size === 0);

  // Break cycles: DFS from roots (no callers) first, then from anything unvisited.
  const back = new Set<string>();
  const state = new Map<string, 1 | 2>();
  const dfs = (u: string) => {
    state.set(u, 1);
    for (const v of [...out.get(u)!].sort()) {
      const s = state.get(v);
      if (s === 1) back.add(`${u}>${v}`);
      else if (!s) dfs(v);
    }
    state.set(u, 2);
  };
  for (const id of connected) if (inc.get(id)!.size === 0 && !state.has(id)) dfs(id);
  for (const id of connected) if (!state.has(id)) dfs(id);

  // Longest-path ranks over the DAG (Kahn order).
  const rank = new Map<string, number>(connected.map((id) => [id, 0]));
  const indeg = new Map<string, number>();
  for (const id of connected) indeg.set(id, [...inc.get(id)!].filter((u) => !back.has(`${u}>${id}`)).length);
  const queue = connected.filter((id) => indeg.get(id) === 0);
  while (queue.length) {
    const u = queue.shift()!;
    for (const v of [...out.get(u)!].sort()) {
      if (back.has(`${u}>${v}`)) continue;
      rank.set(v, Math.max(rank.get(v)!, rank.get(u)! + 1));
      indeg.set(v, indeg.get(v)! - 1);
      if (indeg.get(v) === 0) queue.push(v);
    }
  }

  const columns: string[][] = [];
  for (const id of connected) {
    const c = rank.get(id)!;
    columns[c] ??= [];
    columns[c].push(id);
  }
  // Order each column by the barycenter of its callers in earlier columns (two sweeps are plenty here).
  const order = new Map<string, number>();
  for (const col of columns) for (const [i, id] of col.entries()) order.set(id, i);
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let c = 1; c < columns.length; c++) {
      const col = columns[c] ?? [];
      const bary = (id: string) => {
        const preds = [...inc.get(id)!].filter((u) => (rank.get(u) ?? 0) < c);
        return preds.length ? preds.reduce((s, u) => s + (order.get(u) ?? 0), 0) / preds.length : Number.POSITIVE_INFINITY;
      };
      col.sort((a, b) => bary(a) - bary(b) || (a < b ? -1 : 1));
      for (const [i, id] of col.entries()) order.set(id, i);
    }
  }

  const positions: Record<string, Position> = {};
  const place = (id: string, cx: number, top: number) => {
    const b = boxes.get(id)!;
    if (b.children.length === 0) {
      positions[id] = { x: cx, y: top + b.height / 2 };
      return;
    }
    let y = top + m.servicePadding / 2 + m.versionHeight / 2;
    for (const child of b.children) {
      positions[child] = { x: cx, y };
      y += m.versionHeight + m.versionGap;
    }
  };

  let maxHeight = 0;
  const heights = columns.map((col) => (col ?? []).reduce((s, id) => s + boxes.get(id)!.height, 0) + Math.max(0, (col ?? []).length - 1) * m.rowGap);
  for (const h of heights) maxHeight = Math.max(maxHeight, h);
  columns.forEach((col, c) => {
    let top = (maxHeight - heights[c]) / 2;
    for (const id of col ?? []) {
      place(id, c * m.columnGap, top);
      top += boxes.get(id)!.height + m.rowGap;
    }
  });

  // Services without traffic: a grid below the flow (or on its own).
  if (isolated.length) {
    const perRow = Math.max(1, Math.max(columns.length, Math.ceil(Math.sqrt(isolated.length))));
    let top = connected.length ? maxHeight + m.rowGap * 1.5 : 0;
    for (let i = 0; i < isolated.length; i += perRow) {
      const row = isolated.slice(i, i + perRow);
      const rowHeight = Math.max(...row.map((id) => boxes.get(id)!.height));
      for (const [j, id] of row.entries()) place(id, j * (m.columnGap * 0.6), top);
      top += rowHeight + m.rowGap;
    }
  }
  return positions;
}

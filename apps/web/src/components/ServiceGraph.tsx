"use client";
/**
 * The live service graph. Cytoscape is mounted ONCE; every `/ws/live` frame (one a second) is turned into element
 * changes by the pure `diffGraph` and applied in one `cy.batch`. The layout re-runs only when the node/edge set
 * changes (positions from the pure layered layout); pan and zoom are kept (the view is fitted only until the user
 * moves it).
 *
 * For browser tests: the container carries data-node-count / data-edge-count / data-frames / data-layouts, and
 * `window.__trellisGraph` exposes the cytoscape state (nodes, edges with their data, counters).
 */
import type { Core, ElementDefinition, LayoutOptions } from "cytoscape";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { HEALTH_COLORS } from "../../shared/health.ts";
import type { LiveGraph } from "../../shared/live-types.ts";
import { diffGraph } from "../lib/graph-diff.ts";
import { layeredLayout } from "../lib/graph-layout.ts";
import type { TrellisGraphProbe } from "../lib/graph-probe.ts";
import { EdgePanel, edgeFromId, type TappedEdge } from "./EdgePanel.tsx";
import { LockIcon } from "./icons/index.tsx";

type Conn = "connecting" | "live" | "reconnecting";

const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "font-family": "Inter Variable, Inter, system-ui, sans-serif",
      "font-size": 11,
      color: "#0f172a",
      "text-valign": "center",
      "text-halign": "center",
    },
  },
  {
    selector: "node[kind = 'service'], node[kind = 'ingress']",
    style: {
      shape: "round-rectangle",
      "background-color": "#f8fafc",
      "border-width": 2,
      "border-color": HEALTH_COLORS.idle,
      "font-size": 13,
      "font-weight": 600,
      width: 90,
      height: 40,
      padding: "14px",
    },
  },
  { selector: "node[kind = 'ingress']", style: { shape: "diamond", width: 60, height: 60, "background-color": "#e2e8f0" } },
  {
    selector: ":parent",
    style: {
      "text-valign": "top",
      "text-halign": "center",
      "text-margin-y": -4,
      "background-opacity": 0.6,
      "corner-radius": 10,
    },
  },
  {
    selector: "node[kind = 'version']",
    style: {
      shape: "round-rectangle",
      width: 56,
      height: 26,
      color: "#ffffff",
      "font-weight": 600,
      "background-color": HEALTH_COLORS.idle,
      "border-width": 0,
    },
  },
  { selector: "node[connected = 0][kind = 'version']", style: { "background-opacity": 0.45 } },
  {
    selector: "edge",
    style: {
      label: "data(label)",
      "curve-style": "bezier",
      "target-arrow-shape": "triangle",
      "line-color": HEALTH_COLORS.idle,
      "target-arrow-color": HEALTH_COLORS.idle,
      width: "mapData(rps, 0, 200, 1.5, 7)",
      "font-size": 10,
      "font-family": "Inter Variable, Inter, system-ui, sans-serif",
      color: "#334155",
      "text-background-color": "#ffffff",
      "text-background-opacity": 0.9,
      "text-background-padding": "2px",
      "text-rotation": "autorotate",
      // gRPC edges carry a second line with their status codes (graph-model.ts edgeLabel).
      "text-wrap": "wrap",
      "text-max-width": "1000px",
      "arrow-scale": 0.9,
    },
  },
  ...(["healthy", "warning", "critical"] as const).flatMap((h) => [
    { selector: `node[kind = 'version'][health = '${h}']`, style: { "background-color": HEALTH_COLORS[h] } },
    { selector: `node[kind != 'version'][health = '${h}']`, style: { "border-color": HEALTH_COLORS[h] } },
  ]),
  // Mirror edges are violet unless their copies fail (the health colours below win).
  { selector: "edge[?mirror]", style: { "line-color": "#8b5cf6", "target-arrow-color": "#8b5cf6", color: "#6d28d9" } },
  // Edges stay calm when healthy; warning / critical edges take the health colour.
  ...(["warning", "critical"] as const).map((h) => ({
    selector: `edge[health = '${h}']`,
    style: { "line-color": HEALTH_COLORS[h], "target-arrow-color": HEALTH_COLORS[h], color: HEALTH_COLORS[h] },
  })),
  { selector: "edge[?mtls]", style: { "line-style": "solid" } },
  { selector: "edge[!mtls]", style: { "line-style": "dashed", "line-dash-pattern": [6, 3] } },
  // Mirrored copies (traffic mirroring): dotted, apart from both mTLS (solid) and plaintext (dashed) calls.
  { selector: "edge[?mirror]", style: { "line-style": "dotted", "target-arrow-shape": "vee" } },
  { selector: "node:selected", style: { "overlay-opacity": 0.08 } },
];

const MAX_FIT_ZOOM = 1.25;

/** Positions from the pure layered layout, applied with cytoscape's `preset` layout (compound boxes follow). */
function runLayout(cy: Core, graph: LiveGraph, fit: boolean): void {
  const positions = layeredLayout(graph);
  cy.layout({
    name: "preset",
    positions: (node: { id(): string }) => positions[node.id()],
    fit: false,
    animate: false,
  } as LayoutOptions).run();
  if (fit) {
    cy.fit(undefined, 50);
    if (cy.zoom() > MAX_FIT_ZOOM) {
      cy.zoom(MAX_FIT_ZOOM);
      cy.center();
    }
  }
}

export function ServiceGraph() {
  const containerRef = useRef<HTMLDivElement>(null);
  const router = useRouter();
  const routerRef = useRef(router);
  routerRef.current = router;
  const [conn, setConn] = useState<Conn>("connecting");
  const [summary, setSummary] = useState({ services: 0, edges: 0, rps: 0, ts: 0 });
  const [tappedEdge, setTappedEdge] = useState<TappedEdge | null>(null);

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    let disposed = false;
    let cy: Core | null = null;
    let ws: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let attempt = 0;
    let prev: LiveGraph | null = null;
    let userMoved = false;
    let frames = 0;
    let layouts = 0;

    const markMoved = () => {
      userMoved = true;
    };
    container.addEventListener("wheel", markMoved, { passive: true });
    container.addEventListener("mousedown", markMoved);
    container.addEventListener("touchstart", markMoved, { passive: true });

    const apply = (graph: LiveGraph) => {
      if (!cy) return;
      const t0 = performance.now();
      const diff = diffGraph(prev, graph);
      prev = graph;
      frames++;
      cy.batch(() => {
        if (diff.remove.length) cy!.remove(diff.remove.map((id) => cy!.getElementById(id)).reduce((a, b) => a.union(b), cy!.collection()));
        if (diff.add.length) cy!.add(diff.add as ElementDefinition[]);
        for (const u of diff.update) cy!.getElementById(u.id).data(u.data);
      });
      if (diff.topologyChanged) {
        layouts++;
        runLayout(cy, graph, !userMoved);
      }
      container.dataset.nodeCount = String(cy.nodes().length);
      container.dataset.edgeCount = String(cy.edges().length);
      container.dataset.frames = String(frames);
      container.dataset.layouts = String(layouts);
      container.dataset.ts = String(graph.ts);
      const probe = window.__trellisGraph;
      if (probe) {
        probe.frames = frames;
        probe.layouts = layouts;
        probe.lastFrameTs = graph.ts;
        const entry = { ms: performance.now() - t0, layout: diff.topologyChanged, updates: diff.update.length } as NonNullable<
          TrellisGraphProbe["applies"]
        >[number];
        probe.applies ??= [];
        probe.applies.push(entry);
        if (probe.applies.length > 100) probe.applies.shift();
        requestAnimationFrame(() => {
          entry.toFrameMs = performance.now() - t0;
        });
      }
      const services = graph.nodes.filter((n) => n.kind === "service").length;
      const rps = graph.nodes.filter((n) => n.kind === "service").reduce((s, n) => s + n.rps, 0);
      setSummary({ services, edges: graph.edges.length, rps: Math.round(rps * 10) / 10, ts: graph.ts });
    };

    const connect = () => {
      if (disposed) return;
      const proto = window.location.protocol === "https:" ? "wss" : "ws";
      ws = new WebSocket(`${proto}://${window.location.host}/ws/live`);
      ws.onopen = () => {
        attempt = 0;
        setConn("live");
      };
      ws.onmessage = (ev) => {
        try {
          const graph = JSON.parse(String(ev.data)) as LiveGraph;
          if (graph.type === "graph") apply(graph);
        } catch {
          /* ignore a bad frame */
        }
      };
      ws.onclose = () => {
        if (disposed) return;
        setConn("reconnecting");
        const delay = Math.min(10_000, 500 * 2 ** attempt++) * (0.75 + Math.random() * 0.5);
        retry = setTimeout(connect, delay);
      };
      ws.onerror = () => ws?.close();
    };

    void (async () => {
      const { default: cytoscape } = await import("cytoscape");
      if (disposed) return;
      cy = cytoscape({
        container,
        elements: [],
        style: STYLE as never,
        wheelSensitivity: 0.3,
        minZoom: 0.2,
        maxZoom: 3,
        boxSelectionEnabled: false,
      });
      const c = cy;
      c.on("tap", "node", (evt) => {
        const data = evt.target.data() as { kind: string; service: string };
        if (data.kind === "service" || data.kind === "version") routerRef.current.push(`/services/${encodeURIComponent(data.service)}`);
      });
      c.on("tap", "edge", (evt) => setTappedEdge(edgeFromId(String(evt.target.id()), String(evt.target.data("label") ?? ""))));
      window.__trellisGraph = {
        frames: 0,
        layouts: 0,
        lastFrameTs: 0,
        cy: c,
        elementCount: () => c.elements().length,
        nodes: () => c.nodes().map((n) => ({ ...n.data() })),
        edges: () => c.edges().map((e) => ({ ...e.data() })),
        edge: (source, destination) =>
          c
            .edges()
            .map((e) => e.data() as Record<string, unknown>)
            .find((d) => String(d.id).startsWith(`e:${source}@`) && String(d.id).includes(`->${destination}@`)),
      };
      container.dataset.ready = "true";
      connect();
    })();

    return () => {
      disposed = true;
      if (retry) clearTimeout(retry);
      ws?.close();
      container.removeEventListener("wheel", markMoved);
      container.removeEventListener("mousedown", markMoved);
      container.removeEventListener("touchstart", markMoved);
      cy?.destroy();
      if (window.__trellisGraph?.cy === cy) delete window.__trellisGraph;
    };
  }, []);

  return (
    <div className="graph-wrap">
      <div className="graph-toolbar">
        <h1>Service graph</h1>
        <span className={`badge conn-${conn}`} data-testid="live-status" data-status={conn}>
          {conn === "live" ? "● live" : conn}
        </span>
        <span className="muted" data-testid="graph-summary">
          {summary.services} services · {summary.edges} edges · {summary.rps} rps (last 10 s)
        </span>
        <span className="legend">
          {(["healthy", "warning", "critical", "idle"] as const).map((h) => (
            <span key={h} className="legend-item">
              <i style={{ background: HEALTH_COLORS[h] }} />
              {h === "healthy" ? "< 1% errors" : h === "warning" ? "< 5%" : h === "critical" ? "≥ 5%" : "no traffic"}
            </span>
          ))}
          <span className="legend-item">
            <LockIcon size={12} title="mTLS" /> mTLS (solid) · plaintext (dashed)
          </span>
        </span>
      </div>
      <div ref={containerRef} className="graph-canvas" data-testid="service-graph" data-node-count="0" data-edge-count="0" />
      {tappedEdge && <EdgePanel edge={tappedEdge} onClose={() => setTappedEdge(null)} />}
      {summary.services === 0 && (
        <div className="graph-empty" data-testid="graph-empty">
          No services yet. Start agents with the join token (<code>data/join-token</code>) and they appear here.
        </div>
      )}
    </div>
  );
}

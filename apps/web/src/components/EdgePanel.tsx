"use client";
/** Shown when a graph edge is tapped: the edge's live numbers and links to its traces and charts. */
import Link from "next/link";
import { edgeHref, tracesHref } from "../lib/trace-links.ts";

export interface TappedEdge {
  source: string;
  destination: string;
  label?: string;
}

export function EdgePanel({ edge, onClose }: { edge: TappedEdge; onClose: () => void }) {
  return (
    <div className="edge-panel" data-testid="edge-panel" data-source={edge.source} data-destination={edge.destination}>
      <div className="edge-panel-head">
        <strong>
          {edge.source} → {edge.destination}
        </strong>
        <button type="button" className="link-button" onClick={onClose} aria-label="close">
          ✕
        </button>
      </div>
      {edge.label && <div className="small muted">{edge.label}</div>}
      <div className="edge-panel-links">
        <Link href={tracesHref({ service: edge.source, peer: edge.destination })} data-testid="edge-traces-link">
          Recent traces
        </Link>
        <Link href={tracesHref({ service: edge.source, peer: edge.destination, sort: "slowest" })} data-testid="edge-slowest-link">
          Slowest traces
        </Link>
        <Link href={tracesHref({ service: edge.source, peer: edge.destination, errorsOnly: true })}>Failed traces</Link>
        <Link href={edgeHref(edge.source, edge.destination)} data-testid="edge-metrics-link">
          Charts
        </Link>
      </div>
    </div>
  );
}

/** Graph edge id `e:<source>@<v>-><destination>@<v>` → service names. */
export function edgeFromId(id: string, label?: string): TappedEdge | null {
  const m = /^e:([^@]+)@[^-]*->([^@]+)@/.exec(id);
  return m ? { source: m[1], destination: m[2], label } : null;
}

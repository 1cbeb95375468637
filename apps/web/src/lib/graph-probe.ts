/** What the graph exposes on `window.__trellisGraph` for browser tests and the console benchmark. */
import type { Core } from "cytoscape";

export interface TrellisGraphProbe {
  frames: number;
  layouts: number;
  lastFrameTs: number;
  elementCount: () => number;
  nodes: () => Record<string, unknown>[];
  edges: () => Record<string, unknown>[];
  edge: (source: string, destination: string) => Record<string, unknown> | undefined;
  cy: Core;
  /** Benchmark hook: ms spent applying each frame (diff + cytoscape batch + layout if any), and until the next frame. */
  applies?: { ms: number; toFrameMs?: number; layout: boolean; updates: number }[];
}

declare global {
  interface Window {
    __trellisGraph?: TrellisGraphProbe;
  }
}

/** Reads the console's public APIs the way any client would: plain HTTP to tRPC. */

export interface GraphEdgeView {
  source: string;
  sourceVersion?: string;
  destination: string;
  destinationVersion?: string;
  rps: number;
  errorRate: number;
  p99Ms: number;
}

/** GET a tRPC query and return its data (plain JSON or superjson-wrapped). */
export async function trpcQuery<T>(baseUrl: string, path: string, input?: unknown): Promise<T> {
  const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await fetch(`${baseUrl}/api/trpc/${path}${qs}`, { headers: { "x-trellis-test": "1" } });
  const body = (await res.json()) as { result?: { data?: unknown }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`${path} -> ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  const data = body.result.data as { json?: T } | T;
  return (data && typeof data === "object" && "json" in (data as object) ? (data as { json: T }).json : data) as T;
}

export async function liveEdges(baseUrl: string): Promise<GraphEdgeView[]> {
  const graph = await trpcQuery<{ edges: GraphEdgeView[] }>(baseUrl, "graph.live");
  return graph.edges;
}

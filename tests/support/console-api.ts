/**
 * A client of the console's public API, the way any program would use it: plain HTTP to tRPC. Tests go through
 * `ConsoleSession` so that authentication lives in one place.
 */

export interface GraphEdgeView {
  source: string;
  sourceVersion?: string;
  destination: string;
  destinationVersion?: string;
  rps: number;
  errorRate: number;
  p99Ms: number;
  requests: number;
  mtlsShare: number;
}

export class TrpcError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${path} -> ${status} ${JSON.stringify(body).slice(0, 500)}`);
  }
}

function unwrap<T>(data: unknown): T {
  return (data && typeof data === "object" && "json" in (data as object) ? (data as { json: T }).json : data) as T;
}

export class ConsoleSession {
  /** Headers sent with every call (a session cookie once signed in). */
  readonly headers: Record<string, string> = {};

  constructor(readonly baseUrl: string) {}

  async query<T>(path: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    const res = await fetch(`${this.baseUrl}/api/trpc/${path}${qs}`, { headers: this.headers });
    const body = (await res.json()) as { result?: { data?: unknown } };
    if (!res.ok || !body.result) throw new TrpcError(path, res.status, body);
    return unwrap<T>(body.result.data);
  }

  async mutate<T>(path: string, input?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/api/trpc/${path}`, {
      method: "POST",
      headers: { ...this.headers, "content-type": "application/json" },
      body: JSON.stringify(input ?? null),
    });
    const body = (await res.json()) as { result?: { data?: unknown } };
    if (!res.ok || !body.result) throw new TrpcError(path, res.status, body);
    return unwrap<T>(body.result.data);
  }

  async liveEdges(): Promise<GraphEdgeView[]> {
    return (await this.query<{ edges: GraphEdgeView[] }>("graph.live")).edges;
  }
}

/** GET a tRPC query without a session. */
export async function trpcQuery<T>(baseUrl: string, path: string, input?: unknown): Promise<T> {
  return new ConsoleSession(baseUrl).query<T>(path, input);
}

export async function liveEdges(baseUrl: string): Promise<GraphEdgeView[]> {
  return new ConsoleSession(baseUrl).liveEdges();
}

/**
 * A client of the console's public API, the way any program would use it: plain HTTP to tRPC, signed in with a session
 * cookie, mutations with the CSRF header. Tests and the bench go through `ConsoleSession` so that authentication
 * lives in one place.
 */
import { consoleFetch } from "./console-trust.ts";

/** The admin password every console started by `startConsole` has (TRELLIS_ADMIN_PASSWORD). */
export const TEST_ADMIN_PASSWORD = "test-admin-password-0123";

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
  /** Tunnels (WebSockets) open on this edge over the window. */
  connections?: number;
  /** gRPC calls over the window by gRPC status code. */
  grpcStatus?: Record<string, number>;
  label?: string;
  /** Of `requests`, mirrored copies (traffic mirroring); `mirror`: the edge carries only copies. */
  mirrored?: number;
  mirror?: boolean;
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
  /** Headers sent with every call (the session cookie once signed in). */
  readonly headers: Record<string, string> = {};

  constructor(readonly baseUrl: string) {}

  /** Signs in with a username and password (POST /api/auth/signin) and keeps the session cookie. */
  static async signIn(baseUrl: string, username = "admin", password = TEST_ADMIN_PASSWORD): Promise<ConsoleSession> {
    const res = await consoleFetch(`${baseUrl}/api/auth/signin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
    if (!cookie.startsWith("trellis_session=")) throw new Error("sign-in set no session cookie");
    const s = new ConsoleSession(baseUrl);
    s.headers.cookie = cookie;
    return s;
  }

  /** The session cookie (`name=value`), for requests made outside this class (pages, websockets). */
  get cookie(): string {
    return this.headers.cookie ?? "";
  }

  async query<T>(path: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    const res = await consoleFetch(`${this.baseUrl}/api/trpc/${path}${qs}`, { headers: this.headers });
    const body = (await res.json()) as { result?: { data?: unknown } };
    if (!res.ok || !body.result) throw new TrpcError(path, res.status, body);
    return unwrap<T>(body.result.data);
  }

  async mutate<T>(path: string, input?: unknown): Promise<T> {
    const res = await consoleFetch(`${this.baseUrl}/api/trpc/${path}`, {
      method: "POST",
      headers: { ...this.headers, "content-type": "application/json", "x-trellis-csrf": "1" },
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

const sessions = new Map<string, Promise<ConsoleSession>>();

/** The admin session for a console (signed in once per console URL). */
export function adminSession(baseUrl: string): Promise<ConsoleSession> {
  let s = sessions.get(baseUrl);
  if (!s) {
    s = ConsoleSession.signIn(baseUrl);
    sessions.set(baseUrl, s);
    s.catch(() => sessions.delete(baseUrl));
  }
  return s;
}

/** The admin's session cookie for a console. */
export async function adminCookie(baseUrl: string): Promise<string> {
  return (await adminSession(baseUrl)).cookie;
}

/** GET a tRPC query as the admin. */
export async function trpcQuery<T>(baseUrl: string, path: string, input?: unknown): Promise<T> {
  return (await adminSession(baseUrl)).query<T>(path, input);
}

export async function liveEdges(baseUrl: string): Promise<GraphEdgeView[]> {
  return (await adminSession(baseUrl)).liveEdges();
}

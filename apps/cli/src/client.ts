/** The console's tRPC API over plain fetch with a bearer token (responses are plain JSON, no transformer). */
import type { Target } from "./config.ts";

/** A refused or failed API call: the console's message, exit code 1. */
export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ConsoleClient {
  constructor(private readonly target: Target) {}

  query<T>(path: string, input?: unknown): Promise<T> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.call<T>(path, `${path}${qs}`, { method: "GET" });
  }

  mutate<T>(path: string, input?: unknown): Promise<T> {
    return this.call<T>(path, path, { method: "POST", body: JSON.stringify(input ?? null), headers: { "content-type": "application/json" } });
  }

  private async call<T>(path: string, url: string, init: RequestInit): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.target.console}/api/trpc/${url}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.target.token}` },
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new ApiError(path, 0, `cannot reach the console at ${this.target.console}: ${cause}`);
    }
    const text = await res.text();
    let body: { result?: { data?: T }; error?: { message?: string } } = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported below with the status
    }
    if (res.ok && body.result) return body.result.data as T;
    const reason = res.status === 401 ? "the API token is unknown, revoked or expired" : (body.error?.message ?? text.slice(0, 200));
    throw new ApiError(path, res.status, `${path}: ${res.status} ${reason}`);
  }
}

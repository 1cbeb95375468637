/**
 * The one way a shop service calls another: through its own agent's outbound listener, as an HTTP proxy. Requests
 * go to 127.0.0.1:<outbound> in absolute form (`GET http://catalog/products HTTP/1.1`, `Host: catalog`) over a
 * keep-alive pool, carrying the trace headers of the request being served (see http.ts).
 *
 * In capture mode (`directPort` set) the app is what an unmeshed app is: it calls `http://<service>:<directPort>/…`
 * by name, origin-form, with no proxy at all; the pod's iptables rules take the call to the agent.
 *
 * The outbound port may not be known when the app starts (the launcher learns it from the agent, which itself needs
 * the app's port first): calls made before it is set wait for it, bounded by `portWaitMs`.
 */
import http from "node:http";
import { requestContext } from "./http.ts";

export class UpstreamError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
    message: string,
    readonly body: unknown = undefined,
    /** The agent's `x-trellis-error` when the proxy itself produced the failure. */
    readonly proxyError: string | undefined = undefined,
  ) {
    super(message);
    this.name = "UpstreamError";
  }

  /** How a handler that let this escape answers: a dependency failed, so 502 (504 for timeouts), saying which. */
  toReply() {
    return {
      status: this.status === 504 ? 504 : 502,
      json: { error: this.message, upstream: this.service, upstreamStatus: this.status, proxyError: this.proxyError },
    };
  }
}

export interface MeshResponse<T = unknown> {
  status: number;
  body: T;
  headers: http.IncomingHttpHeaders;
}

export interface MeshClientOptions {
  outboundPort?: number;
  /** Per-call timeout, ms. The agent has its own; this one only guards the app against a hung proxy. */
  timeoutMs?: number;
  /** How long a call waits for the outbound port to become known. */
  portWaitMs?: number;
  /** Capture mode: call services directly by name on this port (no proxy; iptables sends the call to the agent). */
  directPort?: number;
}

export class MeshClient {
  private port: number | undefined;
  private waiters: Array<(port: number) => void> = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 32, timeout: 30_000 });
  private readonly timeoutMs: number;
  private readonly portWaitMs: number;
  private readonly directPort: number | undefined;

  constructor(opts: MeshClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.portWaitMs = opts.portWaitMs ?? 10_000;
    this.directPort = opts.directPort;
    if (opts.outboundPort) this.setOutboundPort(opts.outboundPort);
  }

  get outboundPort(): number | undefined {
    return this.port;
  }

  setOutboundPort(port: number): void {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new RangeError(`bad outbound port ${port}`);
    if (this.port !== undefined && this.port !== port) this.agent.destroy(); // the old agent is gone; drop its sockets
    this.port = port;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(port);
  }

  private waitForPort(): Promise<number> {
    if (this.port !== undefined) return Promise.resolve(this.port);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onPort);
        reject(new UpstreamError("-", 503, "outbound port not known yet (agent not started?)"));
      }, this.portWaitMs);
      const onPort = (p: number) => {
        clearTimeout(timer);
        resolve(p);
      };
      this.waiters.push(onPort);
    });
  }

  /**
   * Where a WebSocket to `service` is dialed: the agent's outbound listener with `Host: <service>` (origin-form; an
   * upgrade is routed by Host like any call), or `<service>:<directPort>` in capture mode. Null while the outbound
   * port is not known yet. `trace`: the trace headers of the request being relayed.
   */
  webSocketTarget(service: string, path: string, trace: Record<string, string> = {}): { url: string; headers: Record<string, string> } | null {
    const headers: Record<string, string> = { ...trace };
    if (this.directPort !== undefined) return { url: `ws://${service}:${this.directPort}${path}`, headers };
    if (this.port === undefined) return null;
    return { url: `ws://127.0.0.1:${this.port}${path}`, headers: { ...headers, host: service } };
  }

  /**
   * Where a gRPC client dials `service`: the agent's outbound listener (HTTP/2 with prior knowledge) with the service
   * name as `:authority`, or `<service>:<directPort>` in capture mode. Waits for the outbound port like any call.
   */
  async grpcTarget(service: string): Promise<{ address: string; authority: string }> {
    if (this.directPort !== undefined) return { address: `${service}:${this.directPort}`, authority: `${service}:${this.directPort}` };
    return { address: `127.0.0.1:${await this.waitForPort()}`, authority: service };
  }

  /** Any response from the service; throws only when no HTTP response came back. */
  async request<T = unknown>(service: string, method: string, path: string, body?: unknown): Promise<MeshResponse<T>> {
    const port = this.directPort ?? (await this.waitForPort());
    const host = this.directPort === undefined ? service : `${service}:${this.directPort}`;
    const headers: Record<string, string> = { ...requestContext.getStore()?.trace, host, accept: "application/json" };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const idempotent = method === "GET" || method === "HEAD";
    try {
      return await this.once<T>(port, service, method, path, headers, payload);
    } catch (err) {
      // A keep-alive socket the proxy closed while idle: safe to resend once, for idempotent calls.
      if (idempotent && (err as { reusedSocket?: boolean }).reusedSocket) return this.once<T>(port, service, method, path, headers, payload);
      throw err;
    }
  }

  private once<T>(
    port: number,
    service: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    payload?: string,
  ): Promise<MeshResponse<T>> {
    return new Promise((resolve, reject) => {
      const direct = this.directPort !== undefined;
      const req = http.request({
        host: direct ? service : "127.0.0.1",
        port,
        method,
        path: direct ? path : `http://${service}${path}`,
        headers,
        agent: this.agent,
        timeout: this.timeoutMs,
      });
      req.on("timeout", () => req.destroy(new UpstreamError(service, 504, `call to ${service} timed out after ${this.timeoutMs} ms`)));
      req.on("error", (err) => {
        if (err instanceof UpstreamError) return reject(err);
        const e = new UpstreamError(service, 502, `call to ${service} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        (e as { reusedSocket?: boolean }).reusedSocket = req.reusedSocket && (err as NodeJS.ErrnoException).code === "ECONNRESET";
        reject(e);
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          if ((res.headers["content-type"] ?? "").includes("json") && text) {
            try {
              parsed = JSON.parse(text);
            } catch {
              /* keep the text */
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
        });
      });
      req.end(payload);
    });
  }

  /** A 2xx JSON body, or an UpstreamError carrying the status (and the proxy's reason, if it made the failure). */
  async json<T = unknown>(service: string, method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(service, method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body;
    const proxyError = res.headers["x-trellis-error"] as string | undefined;
    const reason = (res.body as { error?: string } | undefined)?.error ?? proxyError ?? `status ${res.status}`;
    throw new UpstreamError(service, res.status, `${service} ${method} ${path}: ${res.status} ${reason}`, res.body, proxyError);
  }

  close(): void {
    this.agent.destroy();
  }
}

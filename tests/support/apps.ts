/** Real HTTP apps for integration tests, in the test process: an echo upstream and a caller that calls through its agent. */

import http from "node:http";
import type { AddressInfo } from "node:net";
import { type AgentHandle, type ConsoleHandle, eventually, startAgent } from "@trellis/testkit";

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface EchoApp {
  server: http.Server;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** Answers every request with a JSON echo of what it received, and records it. */
export async function startEchoApp(name: string): Promise<EchoApp> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const payload = JSON.stringify({ app: name, method: req.method, url: req.url, bodyLength: body.length });
      res.writeHead(200, { "content-type": "application/json", "x-app": name });
      res.end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => closeServer(server),
  };
}

/** Stops listening and drops every connection still open (a keep-alive peer must not hold the test's `after`). */
function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  return closed;
}

export interface CallerApp {
  port: number;
  /** The outbound port of this app's agent; set once the agent is up (and again if it restarts). */
  outboundPort: number;
  close(): Promise<void>;
}

const keepAlive = new http.Agent({ keepAlive: true });

/**
 * An app that, for `GET /call/<service>/<path…>`, calls `http://<service>/<path…>` through its agent's outbound
 * listener as an HTTP proxy (absolute-form) and relays status, `x-trellis-error` and body.
 */
export async function startCallerApp(): Promise<CallerApp> {
  const app: CallerApp = { port: 0, outboundPort: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const match = /^\/call\/([^/]+)(\/.*)?$/.exec(req.url ?? "");
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: app.outboundPort,
        method: req.method,
        path: `http://${match[1]}${match[2] ?? "/"}`,
        headers: { ...req.headers, host: match[1] },
        agent: keepAlive,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      res.writeHead(599, { "x-caller-error": e.message }).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  app.port = (server.address() as AddressInfo).port;
  app.close = () => closeServer(server);
  return app;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request to 127.0.0.1; optional absolute-form proxy target. */
export function request(
  port: number,
  path: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`request to :${port}${path} timed out`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

export interface CatalogAndWeb {
  catalogApp: EchoApp;
  catalogAgent: AgentHandle;
  webApp: CallerApp;
  webAgent: AgentHandle;
}

/**
 * The two-service mesh the integration tests start from: catalog (an echo app) and web (a caller), each with its agent
 * joined to `c` — or given the URLs of several console replicas (tried in that order; they share the join token).
 */
export async function startCatalogAndWeb(c: ConsoleHandle | readonly ConsoleHandle[]): Promise<CatalogAndWeb> {
  const consoles = "wsAgents" in c ? [c] : c;
  const joinTo = { console: consoles.map((x) => x.wsAgents), token: consoles[0].token };
  const catalogApp = await startEchoApp("catalog");
  const catalogAgent = await startAgent({ service: "catalog", appPort: catalogApp.port, ...joinTo });
  const webApp = await startCallerApp();
  const webAgent = await startAgent({ service: "web", appPort: webApp.port, ...joinTo });
  webApp.outboundPort = webAgent.outbound;
  return { catalogApp, catalogAgent, webApp, webAgent };
}

/**
 * Steady load through web's agent to catalog (3 sequential workers, each call `/call/catalog/w<n>/<i>` on web's
 * inbound) until `stop()`: what the zero-failure tests (certificate renewal, CA rotation) count.
 */
export function startLoad(webAgent: AgentHandle) {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const started = Date.now();
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      try {
        const r = await request(webAgent.inbound, `/call/catalog/w${w}/${i}`);
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${r.headers["x-trellis-error"] ?? ""} ${r.body.toString().slice(0, 200)}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  const workers = Promise.all([worker(1), worker(2), worker(3)]);
  return {
    get ok() {
      return ok;
    },
    async stop() {
      running = false;
      await workers;
      return { ok, failures, seconds: (Date.now() - started) / 1000 };
    },
  };
}

export type SteadyLoad = ReturnType<typeof startLoad>;

// One demo-shop instance behind its agent lives in the testkit (browser tests deploy one too).
export { type ShopService, startShopService } from "@trellis/testkit";

/** An agent admin endpoint's JSON body (`/config`, `/identity`). */
export async function adminJson(agent: AgentHandle, path: string) {
  return JSON.parse((await request(agent.admin, path)).body.toString());
}

/**
 * A caller and a destination, each with its agent joined to `c`, the destination's mTLS mode set to STRICT in the
 * console: resolves once both agents hold their certificates and the caller's snapshot lists the destination's
 * endpoint in STRICT mode (so the first call runs over mTLS). `destination` and `caller` are `[service, app port]`.
 */
export async function startStrictPair(
  c: ConsoleHandle,
  admin: { mutate(path: string, input: unknown): Promise<unknown> },
  destination: [string, number],
  caller: [string, number],
): Promise<{ destinationAgent: AgentHandle; callerAgent: AgentHandle }> {
  const [dest, destPort] = destination;
  const destinationAgent = await startAgent({ service: dest, appPort: destPort, console: c.wsAgents, token: c.token });
  const callerAgent = await startAgent({ service: caller[0], appPort: caller[1], console: c.wsAgents, token: c.token });
  for (const a of [destinationAgent, callerAgent])
    await eventually(async () => (await adminJson(a, "/identity"))?.spiffeId, 15_000, "agent certificate");
  await admin.mutate("security.setMtls", { name: dest, mode: "STRICT" });
  const strict = async (a: AgentHandle, withEndpoints: boolean) =>
    (await adminJson(a, "/config")).snapshot?.services?.some(
      (s: { name: string; mtls: string; endpoints: unknown[] }) =>
        s.name === dest && s.mtls === "STRICT" && (!withEndpoints || s.endpoints.length > 0),
    );
  await eventually(
    async () => (await strict(callerAgent, true)) && (await strict(destinationAgent, false)),
    15_000,
    `${caller[0]} knows ${dest}, STRICT on both`,
  );
  return { destinationAgent, callerAgent };
}

/**
 * Test helpers: real node:http apps as upstreams and small HTTP clients. The BUILT agent (apps/agent/dist/cli.js,
 * temp state dir, port 0) and every wait come from @trellis/testkit; `cleanup()` (call it in `after`) stops every
 * process and closes every server this module started.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { stopAll, within } from "@trellis/testkit";

/** The kit's agent process, under the names these tests use. */
export { type AgentHandle as AgentProc, freePort as closedPort, startAgent, within } from "@trellis/testkit";

const servers = new Set<net.Server>();
const clientAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export async function cleanup(): Promise<void> {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  servers.clear();
  clientAgent.destroy();
  await stopAll(1_000);
}

export function snapshot(
  service: string,
  services: MeshSnapshotInput["services"],
  version = 1,
  extra: Partial<MeshSnapshotInput> = {},
): MeshSnapshotInput {
  return { version, service, services, issuedAt: new Date().toISOString(), ...extra };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodySha: string;
  bodyLength: number;
  remotePort: number;
}

export interface TestApp {
  port: number;
  server: http.Server;
  requests: RecordedRequest[];
}

/**
 * A real upstream app. By default it records each request and answers 200 with JSON describing it; `handler` may
 * answer itself (it receives the request body already read).
 */
export async function startApp(
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, rec: RecordedRequest) => void,
): Promise<TestApp> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const rec: RecordedRequest = {
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodySha: createHash("sha256").update(body).digest("hex"),
        bodyLength: body.length,
        remotePort: req.socket.remotePort!,
      };
      requests.push(rec);
      if (handler) return handler(req, res, body, rec);
      const out = JSON.stringify({ app: name, ...rec });
      res.writeHead(200, { "content-type": "application/json", "x-app": name });
      res.end(out);
    });
  });
  servers.add(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, server, requests };
}

/** A TCP server that accepts and then resets every connection once it receives data. */
export async function startResetServer(): Promise<number> {
  const server = net.createServer((s) => {
    s.on("data", () => s.resetAndDestroy());
    s.on("error", () => {});
  });
  servers.add(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as net.AddressInfo).port;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface RequestOptions {
  port: number;
  path: string;
  method?: string;
  headers?: http.OutgoingHttpHeaders | string[];
  body?: Buffer | string;
  keepAlive?: boolean;
  timeoutMs?: number;
}

export function request(o: RequestOptions): Promise<Reply> {
  const p = new Promise<Reply>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: o.port,
        path: o.path,
        method: o.method ?? "GET",
        headers: o.headers as http.OutgoingHttpHeaders,
        agent: o.keepAlive === false ? false : clientAgent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body);
  });
  return within(p, o.timeoutMs ?? 10_000, `${o.method ?? "GET"} ${o.path} on :${o.port}`);
}

export async function getText(port: number, path: string): Promise<{ status: number; text: string }> {
  const r = await request({ port, path });
  return { status: r.status, text: r.body.toString("utf8") };
}

/** Sends raw bytes on a fresh connection and resolves with everything received until the server closes it. */
export function rawExchange(port: number, data: string | Buffer, ms = 5_000): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => s.write(data));
      let got = "";
      s.setEncoding("latin1");
      s.on("data", (c: string) => (got += c));
      s.on("end", () => resolve(got));
      s.on("close", () => resolve(got));
      s.on("error", (e) => (got ? resolve(got) : reject(e)));
    }),
    ms,
    "raw exchange",
  );
}

export function sha256(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Runs `n` calls of `fn` with at most `concurrency` in flight. */
export async function runConcurrent<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

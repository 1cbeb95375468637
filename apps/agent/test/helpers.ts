/**
 * Test helpers: spawn the BUILT agent (apps/agent/dist/cli.js) with a temp state dir, real node:http apps as
 * upstreams, and small HTTP clients. Every wait is event-driven and bounded by a timeout; `cleanup()` (call it in
 * `after`) kills every child and closes every server this module started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { MeshSnapshotInput } from "@trellis/protocol";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = join(REPO, "apps/agent/dist/cli.js");

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build -w @trellis/agent\` first`);

const children = new Set<ChildProcess>();
const servers = new Set<net.Server>();
const dirs = new Set<string>();
const clientAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export async function cleanup(): Promise<void> {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  children.clear();
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
  servers.clear();
  clientAgent.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

/** Rejects after `ms` unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

export function tempDir(prefix = "trellis-agent-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

export function snapshot(
  service: string,
  services: MeshSnapshotInput["services"],
  version = 1,
  extra: Partial<MeshSnapshotInput> = {},
): MeshSnapshotInput {
  return { version, service, services, issuedAt: new Date().toISOString(), ...extra };
}

export type LogLine = Record<string, unknown> & { msg?: string };

export interface AgentProc {
  proc: ChildProcess;
  stateDir: string;
  inbound: number;
  outbound: number;
  admin: number;
  lines: LogLine[];
  stdout: () => string;
  /** Resolves with the first log line (already seen or future) matching `pred`. */
  waitForLine(pred: (l: LogLine) => boolean, ms?: number, what?: string): Promise<LogLine>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(ms?: number): Promise<number | null>;
}

export interface StartAgentOptions {
  service: string;
  version?: string;
  appPort: number;
  /** Written to `<state-dir>/snapshot.json` before start (the real persisted-snapshot path). */
  snapshot?: MeshSnapshotInput | null;
  stateDir?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function startAgent(o: StartAgentOptions): Promise<AgentProc> {
  const stateDir = o.stateDir ?? tempDir();
  if (o.snapshot) writeFileSync(join(stateDir, "snapshot.json"), JSON.stringify(o.snapshot));
  const proc = spawn(
    process.execPath,
    [CLI, "--service", o.service, "--version", o.version ?? "v1", "--app-port", String(o.appPort), "--state-dir", stateDir, ...(o.args ?? [])],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TRELLIS_JOIN_TOKEN: "", ...o.env } },
  );
  children.add(proc);
  const lines: LogLine[] = [];
  let raw = "";
  let partial = "";
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (chunk: string) => {
    raw += chunk;
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const text = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text);
      } catch {
        line = { msg: "<not json>", text };
      }
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].pred(line)) {
          waiters[i].resolve(line);
          waiters.splice(i, 1);
        }
      }
    }
  });
  let stderr = "";
  proc.stderr!.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((res) => proc.once("exit", (code) => res(code)));

  const waitForLine = (pred: (l: LogLine) => boolean, ms = 5_000, what = "log line") => {
    const seen = lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return within(
      Promise.race([
        new Promise<LogLine>((resolve) => waiters.push({ pred, resolve })),
        exited.then((code) => {
          throw new Error(`agent exited (${code}) before ${what}; stderr: ${stderr} stdout: ${raw}`);
        }),
      ]),
      ms,
      what,
    );
  };
  const ready = await waitForLine((l) => l.msg === "agent listening", 5_000, "agent listening");
  return {
    proc,
    stateDir,
    inbound: ready.inbound as number,
    outbound: ready.outbound as number,
    admin: ready.admin as number,
    lines,
    stdout: () => raw,
    waitForLine,
    async stop(ms = 3_000) {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      return within(exited, ms, "agent exit");
    },
  };
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

/** A port on which nothing listens (bound then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
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

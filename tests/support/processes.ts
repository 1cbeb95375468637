/**
 * Real processes for integration tests: spawn, wait for a JSON log line (an event, never a sleep), and stop.
 * Every wait is bounded; every process started here is killed by `stopAll()`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { TEST_ADMIN_PASSWORD } from "./console-api.ts";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const agentCli = join(repoRoot, "apps/agent/dist/cli.js");
export const consoleMain = join(repoRoot, "apps/web/server/main.ts");

export type LogLine = Record<string, unknown> & { msg?: string };

export class Proc {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly output: string[] = [];
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    this.child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, NODE_ENV: "production", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    const onLine = (text: string) => {
      this.output.push(text);
      if (this.output.length > 400) this.output.shift();
      if (!text.startsWith("{")) return;
      let line: LogLine;
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(line)) return true;
        w.resolve(line);
        return false;
      });
    };
    createInterface({ input: this.child.stdout! }).on("line", onLine);
    createInterface({ input: this.child.stderr! }).on("line", (l) => this.output.push(l));
    running.add(this);
    this.child.once("exit", () => running.delete(this));
  }

  /** Resolves with the first log line (past or future) that matches; rejects on timeout or exit. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 20_000, what = "log line"): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms waiting for ${what}`), timeoutMs);
      const onExit = (code: number | null) => fail(`exited (${code}) while waiting for ${what}`);
      const fail = (why: string) => {
        this.child.off("exit", onExit);
        reject(new Error(`${this.name} ${why}\n--- last output ---\n${this.output.slice(-40).join("\n")}`));
      };
      this.child.once("exit", onExit);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          this.child.off("exit", onExit);
          resolve(l);
        },
      });
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const running = new Set<Proc>();
const tempDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `trellis-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface ConsoleHandle {
  proc: Proc;
  url: string;
  wsAgents: string;
  dataDir: string;
  token: string;
}

export async function startConsole(opts: { dataDir?: string; token?: string; port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ConsoleHandle> {
  const dataDir = opts.dataDir ?? tempDir("console");
  const token = opts.token ?? "test-join-token-0123456789";
  const proc = new Proc("console", process.execPath, ["--import", "tsx", consoleMain], {
    PORT: String(opts.port ?? 0),
    HOST: "127.0.0.1",
    TRELLIS_DATA_DIR: dataDir,
    TRELLIS_JOIN_TOKEN: token,
    TRELLIS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    ...opts.env,
  });
  const line = await proc.waitFor((l) => l.msg === "console listening", 60_000, "console listening");
  const url = String(line.url);
  return { proc, url, wsAgents: `${url.replace(/^http/, "ws")}/ws/agents`, dataDir, token };
}

export interface AgentHandle {
  proc: Proc;
  inbound: number;
  outbound: number;
  admin: number;
  stateDir: string;
}

export async function startAgent(opts: {
  service: string;
  version: string;
  appPort: number;
  console?: string;
  token?: string;
  stateDir?: string;
  instanceId?: string;
  env?: NodeJS.ProcessEnv;
  /** More CLI flags (e.g. `--outbound-port`). */
  extraArgs?: string[];
}): Promise<AgentHandle> {
  const stateDir = opts.stateDir ?? tempDir(`agent-${opts.service}`);
  const args = [
    agentCli,
    "--service",
    opts.service,
    "--version",
    opts.version,
    "--app-port",
    String(opts.appPort),
    "--state-dir",
    stateDir,
    "--instance-id",
    opts.instanceId ?? `${opts.service}-${opts.version}-${Math.random().toString(36).slice(2, 8)}`,
  ];
  if (opts.console) args.push("--console", opts.console);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  const proc = new Proc(`agent ${opts.service}`, process.execPath, args, {
    TRELLIS_JOIN_TOKEN: opts.token ?? "",
    ...opts.env,
  });
  const line = await proc.waitFor((l) => l.msg === "agent listening", 20_000, "agent listening");
  return {
    proc,
    inbound: Number(line.inbound),
    outbound: Number(line.outbound),
    admin: Number(line.admin),
    stateDir,
  };
}

/** Polls `probe` until it returns a truthy value; for state that is only observable by asking (HTTP APIs). */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

/**
 * A port that was free a moment ago, for programs that cannot be told port 0 (Prometheus). Prefer port 0 and reading
 * the bound port wherever the program allows it.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

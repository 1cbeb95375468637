/** Helpers for the shop's process tests: spawn, wait for a JSON line (bounded), HTTP calls, cleanup. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
export const shopDir = path.join(repoRoot, "examples/shop");
export const agentCli = path.join(repoRoot, "apps/agent/dist/cli.js");
export const fakeAgent = path.join(shopDir, "test/fixtures/fake-agent.mjs");

/** Builds examples/shop/dist (esbuild, about a second) so the tests run what `launch` ships. */
export function buildShop(): void {
  const r = spawnSync("npm", ["run", "build", "-w", "@trellis/shop"], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`shop build failed:\n${r.stdout}\n${r.stderr}`);
}

export type Line = Record<string, unknown>;

export class Proc {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<{ match: (l: Line) => boolean; resolve: (l: Line) => void }> = [];

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ) {
    // Its own process group, so `kill()` reaches everything it started even if it misbehaves.
    this.child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.exited = new Promise((r) => this.child.once("exit", (code, signal) => r({ code, signal })));
    const onLine = (text: string) => {
      this.output.push(text);
      if (this.output.length > 300) this.output.shift();
      if (!text.startsWith("{")) return;
      try {
        const l = JSON.parse(text) as Line;
        this.lines.push(l);
        this.waiters = this.waiters.filter((w) => (w.match(l) ? (w.resolve(l), false) : true));
      } catch {
        /* not JSON */
      }
    };
    readline.createInterface({ input: this.child.stdout! }).on("line", onLine);
    readline.createInterface({ input: this.child.stderr! }).on("line", onLine);
    procs.add(this);
  }

  waitFor(match: (l: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`${this.name}: ${why} waiting for ${what}\n--- last output ---\n${this.output.slice(-30).join("\n")}`));
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      void this.exited.then((e) => {
        clearTimeout(timer);
        fail(`exited (${e.code ?? e.signal})`);
      });
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      try {
        process.kill(-this.child.pid!, signal);
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-this.child.pid!, "SIGKILL");
        } catch {
          /* gone */
        }
      }, graceMs);
      await this.exited;
      clearTimeout(t);
    }
    return this.exited;
  }
}

const procs = new Set<Proc>();
const dirs: string[] = [];
const strayPids = new Set<number>();

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `trellis-shop-${prefix}-`));
  dirs.push(d);
  return d;
}

/** Pids (e.g. from ports.json) to make sure of in `cleanup()`. */
export function track(pids: number[]): void {
  for (const p of pids) strayPids.add(p);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function cleanup(): Promise<void> {
  await Promise.all([...procs].map((p) => p.stop("SIGTERM", 3000)));
  for (const pid of strayPids) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export { eventually } from "../../../tests/support/processes.ts";

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** One HTTP request to 127.0.0.1:port; `proxy: true` sends the absolute-form target as an HTTP proxy client would. */
export function request(port: number, method: string, target: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const h: Record<string, string> = { accept: "application/json", ...headers };
    if (payload) h["content-type"] = "application/json";
    if (target.startsWith("http://")) h.host = new URL(target).host;
    const req = http.request({ host: "127.0.0.1", port, method, path: target, headers: h, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* text */
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: parsed });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}

export interface PortsFile {
  instances: Array<{
    id: string;
    service: string;
    version: string;
    appPort: number;
    inbound: number;
    outbound: number;
    admin: number;
    ready: boolean;
    pids: { app: number; agent: number };
  }>;
  loadgen: { pid: number | null } | null;
}

export function readPorts(stateRoot: string): PortsFile {
  return JSON.parse(fs.readFileSync(path.join(stateRoot, "ports.json"), "utf8")) as PortsFile;
}

export function allPids(p: PortsFile): number[] {
  return [...p.instances.flatMap((i) => [i.pids.app, i.pids.agent]), ...(p.loadgen?.pid ? [p.loadgen.pid] : [])].filter(Boolean);
}

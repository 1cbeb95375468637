/** Helpers for the shop's process tests: building the shop, HTTP calls, the ports table, cleanup (processes: @trellis/testkit). */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { killGroupOf, repoRoot, runningGroups, stopAll } from "@trellis/testkit";

export { agentCli, eventually, isAlive, repoRoot, tempDir } from "@trellis/testkit";
export const shopDir = path.join(repoRoot, "examples/shop");
/** A stand-in for the agent's CLI (the launcher's own tests), not a protocol fake. */
export const fakeAgent = path.join(shopDir, "test/fixtures/fake-agent.mjs");

/** Builds examples/shop/dist (esbuild, about a second) so the tests run what `launch` ships. */
export function buildShop(): void {
  const r = spawnSync("npm", ["run", "build", "-w", "@trellis/shop"], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`shop build failed:\n${r.stdout}\n${r.stderr}`);
}

const strayPids = new Set<number>();

/** Pids (e.g. from ports.json) to make sure of in `cleanup()`. */
export function track(pids: number[]): void {
  for (const p of pids) strayPids.add(p);
}

/** Stops every process group (the launcher stops its children), kills tracked strays, removes temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all(runningGroups().map((p) => p.stop("SIGTERM", 3000)));
  for (const pid of strayPids) killGroupOf(pid);
  await stopAll();
}

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the shop's own API, asserted field by field
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

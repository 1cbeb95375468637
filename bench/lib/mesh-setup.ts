/**
 * What the data-plane scenarios share: the upstream, the load generators (bench/lib/loadgen.ts, wrk), CPU and memory
 * sampling of the processes under test, and reading an agent's applied config from its admin port.
 */
import { join } from "node:path";
import { type ProcessGroup, repoRoot, run, spawnNode } from "@trellis/testkit";
import { procStats } from "./procs.ts";
import type { LoadgenResult, ProcStats } from "./results.ts";

const LOADGEN = join(repoRoot, "bench/lib/loadgen.ts");
const UPSTREAM = join(repoRoot, "bench/lib/upstream.ts");

export async function startUpstream(): Promise<{ proc: ProcessGroup; port: number; h2Port: number }> {
  const proc = spawnNode("upstream", ["--import", "tsx", UPSTREAM]);
  const line = await proc.waitFor((l) => l.msg === "upstream listening", 10_000, "upstream listening");
  return { proc, port: Number(line.port), h2Port: Number(line.h2Port) };
}

/** One load generator run (bench/lib/loadgen.ts in its own process). */
export async function loadgen({
  port,
  host,
  rate,
  requests,
  warmup,
  connections = 16,
}: {
  port: number;
  host: string;
  rate: number;
  requests: number;
  warmup: number;
  connections?: number;
}): Promise<LoadgenResult> {
  const out = await run(
    process.execPath,
    [
      "--import",
      "tsx",
      LOADGEN,
      "--port",
      String(port),
      "--host",
      host,
      "--rate",
      String(rate),
      "--connections",
      String(connections),
      "--requests",
      String(requests),
      "--warmup",
      String(warmup),
      "--timeout-s",
      String(Math.ceil((requests + warmup) / rate) + 30),
    ],
    { timeoutMs: ((requests + warmup) / rate) * 1000 + 60_000 },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "") as LoadgenResult;
}

export interface WrkResult {
  rps: number;
  non2xx: number;
  errors: string | null;
}

export async function wrk({
  port,
  host,
  seconds,
  connections = 16,
}: {
  port: number;
  host: string;
  seconds: number;
  connections?: number;
}): Promise<WrkResult> {
  const out = await run("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "-H", `Host: ${host}`, `http://127.0.0.1:${port}/`], {
    timeoutMs: seconds * 1000 + 30_000,
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? null;
  return { rps, non2xx, errors };
}

/** Measures a function while sampling the CPU and memory of `pids`. */
export async function withCpu<T>(pids: number[], fn: () => Promise<T>): Promise<{ result: T; seconds: number; cpu: number[]; mem: ProcStats[] }> {
  const before = pids.map(procStats);
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const after = pids.map(procStats);
  return { result, seconds, cpu: pids.map((_, i) => (after[i].cpuS - before[i].cpuS) / seconds), mem: after };
}

/** The pid of a started process (it was spawned: a process group always has one once it logged a line). */
export function pidOf(proc: ProcessGroup): number {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`${proc.name} has no pid`);
  return pid;
}

export interface AgentConfigView {
  snapshot?: { services?: { name: string; mtls?: string; endpoints?: { address: string }[] }[] };
}
export const agentConfig = async (adminPort: number) => (await (await fetch(`http://127.0.0.1:${adminPort}/config`)).json()) as AgentConfigView;

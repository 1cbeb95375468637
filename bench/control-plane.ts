/**
 * Part 2 — control plane, and part 3 — console graph, against ONE real console process:
 *   simulated agents (bench/lib/sim-agents.ts, in a few worker processes) speak the real protocol over real
 *   websockets; config push = committed change → every agent's ACK, at 10 / 100 / 1,000 agents; console CPU while
 *   1,000 agents send one 20-edge telemetry frame a second; the graph page in headless chromium at 200 and 1,000
 *   services (≈3 edges each) fed by the same agents' telemetry through the console.
 * The change that is pushed: a traffic split through the console API once issue 3 lands (triggerSplitChange), until
 * then a topology change (a new agent joins, which cuts a new config version pushed to every agent).
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { compactHistogram, emptyHistogram, observe } from "@trellis/protocol";
import { type ConsoleSession, repoRoot, startConsole } from "@trellis/testkit";
import { measureGraph } from "./console-graph.ts";
import { openSession, triggerSplitChange } from "./lib/mesh-api.ts";
import { procStats } from "./lib/procs.ts";
import { type ControlPlaneConfig, type ControlPlaneResult, type Log, messageOf, type PushResult, type PushRound } from "./lib/results.ts";
import type { SimAgentSpec, SimCommand, SimReply, SimResults, TelemetryPlan } from "./lib/sim-agents.ts";
import { medianMinMax, percentile } from "./lib/stats.ts";

const SIM = join(repoRoot, "bench/lib/sim-agents.ts");
const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Ok = Extract<SimReply, { ok: true }>;
interface SimWorker {
  child: ChildProcess;
  pending: Map<number, { resolve: (m: Ok) => void; reject: (e: Error) => void }>;
}

/** The simulated fleet: worker processes (bench/lib/sim-agents.ts, forked with this process's --import tsx). */
export class SimFleet {
  readonly workers: SimWorker[];
  private seq = 0;
  /** [workerIndex, agent], in join order. */
  readonly list: [number, SimAgentSpec][] = [];

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => {
      const child = fork(SIM, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const w: SimWorker = { child, pending: new Map() };
      child.on("message", (raw) => {
        const m = raw as SimReply;
        const p = w.pending.get(m.id);
        w.pending.delete(m.id);
        if (m.ok) p?.resolve(m);
        else p?.reject(new Error(m.error));
      });
      return w;
    });
  }
  call<K extends SimCommand["cmd"]>(w: SimWorker, msg: Extract<SimCommand, { cmd: K }>, timeoutMs = 300_000): Promise<SimResults[K]> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sim worker: ${msg.cmd} timed out`)), timeoutMs);
      w.pending.set(id, {
        // The worker answers `msg.cmd` with that command's result (sim-agents.ts, `handlers`).
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as unknown as SimResults[K]);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      w.child.send({ id, ...msg });
    });
  }
  /** Adds agents, spread over the workers; resolves when each has acked its first snapshot. */
  async join(url: string, token: string, agents: SimAgentSpec[]): Promise<void> {
    const per: SimAgentSpec[][] = this.workers.map(() => []);
    for (const a of agents) {
      const wi = this.list.length % this.workers.length;
      per[wi].push(a);
      this.list.push([wi, a]);
    }
    await Promise.all(this.workers.map((w, i) => (per[i].length ? this.call(w, { cmd: "join", url, token, list: per[i] }) : null)));
  }
  /** Ack time of a version ≥ v for every agent (in join order; null where not yet acked). */
  async ackTimes(version: number): Promise<(number | null)[]> {
    const parts = await Promise.all(this.workers.map((w) => this.call(w, { cmd: "ackTimes", version })));
    return parts.flatMap((p) => p.times);
  }
  async telemetry(edges: TelemetryPlan): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { cmd: "telemetry", edges })));
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { cmd: "close" }, 5000).catch(() => undefined)));
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill("SIGTERM");
  }
}

/** What the steps share: the console, the fleet, the signed-in session, and how long each growth took. */
interface Ctx {
  url: string;
  wsUrl: string;
  token: string;
  fleet: SimFleet;
  log: Log;
  session: ConsoleSession;
  joinSeconds: Record<string, number>;
}

type StatusClass = "2xx" | "5xx";

const agentSpec = (i: number): SimAgentSpec => ({ service: `svc-${i}`, version: "v1", instanceId: `sim-${i}`, address: `127.0.0.1:${10000 + i}` });

async function consoleVersion(url: string): Promise<number> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { configVersion: number }).configVersion;
}

/** Waits until every simulated agent acked a version ≥ v; returns their ack times (bounded). */
async function waitAllAcked(fleet: SimFleet, version: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const times = await fleet.ackTimes(version);
    if (times.every((t) => t !== null)) return times as number[];
    if (Date.now() > deadline)
      throw new Error(`only ${times.filter((t) => t !== null).length}/${times.length} agents acked v${version} in ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** The change whose push is timed: a traffic split change on bench-split (two versions, both simulated agents). */
async function triggerChange(ctx: Ctx): Promise<{ t0: number; kind: string }> {
  const t0 = nowMs();
  await triggerSplitChange(ctx.session, "bench-split", ["v1", "v2"]);
  return { t0, kind: "split change" };
}

async function pushRounds(ctx: Ctx, n: number, rounds: number): Promise<PushResult> {
  const rows: PushRound[] = [];
  let kind: string | null = null;
  for (let r = 0; r < rounds; r++) {
    // Settle: every agent holds the console's current version.
    const before = await consoleVersion(ctx.url);
    await waitAllAcked(ctx.fleet, before, 60_000);
    await sleep(150);
    const change = await triggerChange(ctx);
    kind = change.kind;
    const times = await waitAllAcked(ctx.fleet, before + 1, 60_000);
    const lat = times.map((t) => t - change.t0).sort((a, b) => a - b);
    const row = { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), last: lat[lat.length - 1] };
    rows.push(row);
    ctx.log(`push @${n} agents round ${r + 1}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, last ACK ${row.last.toFixed(1)} ms`);
  }
  return {
    agents: n,
    kind,
    rounds: rows,
    p50Ms: medianMinMax(rows.map((x) => x.p50)),
    p99Ms: medianMinMax(rows.map((x) => x.p99)),
    lastMs: medianMinMax(rows.map((x) => x.last)),
  };
}

/** Telemetry edges for agent i of n: `fanout` destinations × the given status classes, 3 variants (so rates move). */
function edgesFor(i: number, n: number, fanout: number, classes: StatusClass[]): string[] {
  const variants: string[] = [];
  for (let v = 0; v < 3; v++) {
    const edges = [];
    for (let k = 0; k < fanout; k++) {
      const dst = (i * 7 + k * 13 + 1) % n === i ? (i + 1) % n : (i * 7 + k * 13 + 1) % n;
      for (const sc of classes) {
        const requests = sc === "2xx" ? 20 + ((i + k + v * 5) % 17) : 1 + (v % 2);
        const latency = emptyHistogram();
        for (let q = 0; q < 8; q++) observe(latency, 0.5 + ((i + q + v) % 9) * 1.5);
        latency.counts[7] += Math.max(requests - 8, 0);
        edges.push({
          source: `svc-${i}`,
          sourceVersion: "v1",
          destination: `svc-${dst}`,
          destinationVersion: "v1",
          statusClass: sc,
          requests,
          errors: sc === "5xx" ? requests : 0,
          bytesIn: requests * 1024,
          bytesOut: requests * 100,
          mtls: 0,
          latency: compactHistogram(latency),
        });
      }
    }
    variants.push(JSON.stringify(edges));
  }
  return variants;
}

function telemetryPlan(n: number, fanout: number, classes: StatusClass[], perSecond: number): TelemetryPlan {
  const plan: TelemetryPlan = { perSecond };
  for (let i = 0; i < n; i++) plan[`sim-${i}`] = edgesFor(i, n, fanout, classes);
  return plan;
}

async function growTo(ctx: Ctx, n: number): Promise<void> {
  const have = ctx.fleet.list.length;
  if (n <= have) return;
  const t0 = Date.now();
  const list: SimAgentSpec[] = [];
  for (let i = have; i < n; i++) list.push(agentSpec(i));
  await ctx.fleet.join(ctx.wsUrl, ctx.token, list);
  ctx.log(`${n} simulated agents joined (+${n - have} in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  ctx.joinSeconds[n] = (Date.now() - t0) / 1000;
}

export async function controlPlaneAndConsole(cfg: ControlPlaneConfig, log: Log): Promise<ControlPlaneResult> {
  const cons = await startConsole({});
  const fleet = new SimFleet(cfg.simWorkers);
  const ctx: Ctx = { url: cons.url, wsUrl: cons.wsUrl, token: cons.token, fleet, log, session: await openSession(cons.url), joinSeconds: {} };
  const out: ControlPlaneResult = {
    params: {
      agentCounts: cfg.agentCounts,
      pushRounds: cfg.pushRounds,
      telemetrySeconds: cfg.telemetrySeconds,
      telemetryFrames: cfg.telemetryFrames,
      simWorkers: cfg.simWorkers,
      graphUpdates: cfg.graphUpdates,
    },
    push: [],
    graph: [],
  };
  const pid = cons.proc.child.pid;
  if (pid === undefined) throw new Error("the console process has no pid");
  try {
    // The service the split change targets (two versions), then the fleet.
    await fleet.join(cons.wsUrl, cons.token, [
      { service: "bench-split", version: "v1", instanceId: "split-v1", address: "127.0.0.1:9001" },
      { service: "bench-split", version: "v2", instanceId: "split-v2", address: "127.0.0.1:9002" },
    ]);
    fleet.list.splice(0, 2); // not part of the svc-i numbering
    const sizes = cfg.agentCounts;
    const steps = [...new Set([...sizes, ...cfg.graphViaConsole])].sort((a, b) => a - b);
    for (const n of steps) {
      // A step that fails (agents not joining in time) is recorded and ends the growth; the console and telemetry
      // parts still run with the agents that did join.
      try {
        await growTo(ctx, n - 2 > 0 ? n - 2 : n); // the two bench-split agents count toward n
        if (sizes.includes(n)) out.push.push(await pushRounds(ctx, n, cfg.pushRounds));
      } catch (e) {
        log(`push @${n} agents FAILED: ${messageOf(e)}`);
        out.pushErrors = [...(out.pushErrors ?? []), { agents: n, error: messageOf(e).slice(0, 300) }];
        break;
      }
      if (cfg.graphViaConsole.includes(n)) {
        await fleet.telemetry(telemetryPlan(ctx.fleet.list.length, 3, ["2xx"], 1));
        await sleep(cfg.graphWarmMs);
        out.graph.push(await measureGraph(cons.url, n, cfg, log, "console"));
        await fleet.telemetry({});
      }
    }
    for (const n of cfg.graphServices) {
      try {
        out.graph.push(await measureGraph(cons.url, n, cfg, log, "feeder"));
      } catch (e) {
        log(`graph ${n} FAILED: ${messageOf(e)}`);
        out.graphErrors = [...(out.graphErrors ?? []), { services: n, error: messageOf(e).slice(0, 300) }];
      }
    }
    // Console CPU: idle with every agent connected, then with 20-edge telemetry from each, one frame a second.
    const total = ctx.fleet.list.length + 2;
    const idle0 = procStats(pid);
    await sleep(cfg.telemetrySeconds * 1000);
    const idle1 = procStats(pid);
    // 1,000 frames a second: one per agent, or (when fewer agents joined, --quick) several per socket.
    const perSocket = Math.max(1, Math.ceil(cfg.telemetryFrames / ctx.fleet.list.length));
    await fleet.telemetry(telemetryPlan(ctx.fleet.list.length, 10, ["2xx", "5xx"], perSocket));
    await sleep(2000);
    const t0 = performance.now();
    const busy0 = procStats(pid);
    await sleep(cfg.telemetrySeconds * 1000);
    const busy1 = procStats(pid);
    const secs = (performance.now() - t0) / 1000;
    out.telemetry = {
      agents: total,
      telemetryAgents: ctx.fleet.list.length,
      framesPerSocketPerSecond: perSocket,
      framesPerSecond: perSocket * ctx.fleet.list.length,
      edgesPerFrame: 20,
      seconds: secs,
      idleCores: (idle1.cpuS - idle0.cpuS) / cfg.telemetrySeconds,
      busyCores: (busy1.cpuS - busy0.cpuS) / secs,
      consoleRssMb: busy1.rssMb,
      consoleHwmMb: busy1.hwmMb,
    };
    log(
      `console CPU with ${total} agents: idle ${(out.telemetry.idleCores * 100).toFixed(1)}% of a core, telemetry ${(out.telemetry.busyCores * 100).toFixed(1)}%`,
    );
    out.joinSeconds = ctx.joinSeconds;
  } finally {
    await fleet.close();
    await cons.proc.stop();
  }
  return out;
}

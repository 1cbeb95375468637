/**
 * The cost of sharing live telemetry between console replicas (issue 11): two real consoles on one real PostgreSQL,
 * simulated agents (bench/lib/sim-agents.ts) split between them, each sending one telemetry frame a second.
 * Phases of `--seconds` each: idle; only A's agents report (B's extra CPU is what merging A's share costs it); every
 * agent reports. Two telemetry shapes: `distinct` (every agent a service of its own, 20 edge records per frame, nothing
 * merges: the upper bound) and `shared` (the agents are instances of `--services` services, as in a real mesh: records
 * of one edge merge per second before they are shared). Figures: bytes/s and chunks/s each replica sends over NOTIFY,
 * CPU per replica, CPU of PostgreSQL, and how far behind B's graph A's own agents' traffic lands.
 *
 *   node --import tsx bench/replicas.ts [--quick] [--agents 1000] [--services 50] [--seconds 10]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compactHistogram, emptyHistogram, observe } from "@trellis/protocol";
import { type ConsoleHandle, type ConsoleSession, runningGroups, startConsole, startPostgres, stopAll, tempDir } from "@trellis/testkit";
import { openSession } from "./lib/mesh-api.ts";
import { HZ, procStats } from "./lib/procs.ts";
import type { SimAgentSpec, TelemetryPlan } from "./lib/sim-agents.ts";
import { SimFleet } from "./lib/sim-fleet.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    agents: { type: "string" },
    services: { type: "string", default: "50" },
    seconds: { type: "string" },
  },
});
const AGENTS = Number(values.agents ?? 1000);
const SERVICES = Number(values.services);
const SECONDS = Number(values.seconds ?? (values.quick ? 8 : 20));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[replicas] ${m}\n`);

interface BusStats {
  bytesSent: number;
  sent: number;
  bytesReceived: number;
  received: number;
  dropped: number;
}
interface ShareStats {
  recordsSent: number;
  recordsMerged: number;
  chunksRejected: number;
}
async function replicaStats(api: ConsoleSession): Promise<{ bus: BusStats; share: ShareStats }> {
  // Once more on a reset: a kept-alive connection the console closed just as it was reused.
  const query = () => api.query<{ bus: BusStats; telemetryShare: ShareStats }>("replicas.list");
  const r = await query().catch(query);
  return { bus: r.bus, share: r.telemetryShare };
}

/** CPU seconds of the PostgreSQL server: the postmaster and every backend it forked. */
function postgresCpuS(dir: string): number {
  const postmaster = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(entry) === postmaster || Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone meanwhile */
    }
  }
  return ticks / HZ;
}

/** 20 edge records per frame: 10 destinations × 2xx/5xx, for the agent's service `source`. */
function edges(source: string, seed: number, destinations: string[]): string[] {
  const variants: string[] = [];
  for (let v = 0; v < 3; v++) {
    const list = [];
    for (let k = 0; k < 10; k++) {
      for (const sc of ["2xx", "5xx"] as const) {
        const requests = sc === "2xx" ? 20 + ((seed + k + v * 5) % 17) : 1 + (v % 2);
        const latency = emptyHistogram();
        for (let q = 0; q < 8; q++) observe(latency, 0.5 + ((seed + q + v) % 9) * 1.5);
        list.push({
          source,
          sourceVersion: "v1",
          destination: destinations[(seed * 7 + k * 13 + 1) % destinations.length],
          destinationVersion: "v1",
          statusClass: sc,
          requests,
          errors: sc === "5xx" ? requests : 0,
          bytesIn: requests * 1024,
          bytesOut: requests * 100,
          mtls: requests,
          latency: compactHistogram(latency),
        });
      }
    }
    variants.push(JSON.stringify(list));
  }
  return variants;
}

function plan(agents: SimAgentSpec[], shape: "distinct" | "shared", only?: Set<string>): TelemetryPlan {
  const p: TelemetryPlan = { perSecond: 1 };
  const names = shape === "distinct" ? agents.map((a) => a.service) : Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
  agents.forEach((a, i) => {
    if (only && !only.has(a.instanceId)) return;
    // Shared shape: the agent is an instance of svc-(i mod S); its edges are its service's (same seed per service).
    const seed = shape === "distinct" ? i : i % SERVICES;
    p[a.instanceId] = edges(shape === "distinct" ? a.service : `svc-${i % SERVICES}`, seed, names);
  });
  return p;
}

interface Phase {
  phase: string;
  seconds: number;
  cpuA: number;
  cpuB: number;
  cpuPostgres: number;
  sentBytesPerSecA: number;
  sentBytesPerSecB: number;
  notifiesPerSecA: number;
  notifiesPerSecB: number;
  recordsPerSecA: number;
  recordsPerSecB: number;
}

async function measure(phase: string, a: ConsoleHandle, b: ConsoleHandle, apiA: ConsoleSession, apiB: ConsoleSession, pgDir: string): Promise<Phase> {
  const pa = a.proc.child.pid!;
  const pb = b.proc.child.pid!;
  const [sa0, sb0] = await Promise.all([replicaStats(apiA), replicaStats(apiB)]);
  const ca0 = procStats(pa).cpuS;
  const cb0 = procStats(pb).cpuS;
  const pg0 = postgresCpuS(pgDir);
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const secs = (performance.now() - t0) / 1000;
  const ca1 = procStats(pa).cpuS;
  const cb1 = procStats(pb).cpuS;
  const pg1 = postgresCpuS(pgDir);
  const [sa1, sb1] = await Promise.all([replicaStats(apiA), replicaStats(apiB)]);
  const r: Phase = {
    phase,
    seconds: secs,
    cpuA: (ca1 - ca0) / secs,
    cpuB: (cb1 - cb0) / secs,
    cpuPostgres: (pg1 - pg0) / secs,
    sentBytesPerSecA: (sa1.bus.bytesSent - sa0.bus.bytesSent) / secs,
    sentBytesPerSecB: (sb1.bus.bytesSent - sb0.bus.bytesSent) / secs,
    notifiesPerSecA: (sa1.bus.sent - sa0.bus.sent) / secs,
    notifiesPerSecB: (sb1.bus.sent - sb0.bus.sent) / secs,
    recordsPerSecA: (sa1.share.recordsSent - sa0.share.recordsSent) / secs,
    recordsPerSecB: (sb1.share.recordsSent - sb0.share.recordsSent) / secs,
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  log(
    `${phase}: CPU A ${pct(r.cpuA)} B ${pct(r.cpuB)} PostgreSQL ${pct(r.cpuPostgres)}; sent A ${(r.sentBytesPerSecA / 1024).toFixed(1)} KiB/s (${r.notifiesPerSecA.toFixed(1)} NOTIFY/s, ${r.recordsPerSecA.toFixed(0)} records/s) B ${(r.sentBytesPerSecB / 1024).toFixed(1)} KiB/s (${r.notifiesPerSecB.toFixed(1)} NOTIFY/s)`,
  );
  return r;
}

const pg = await startPostgres();
const fleet = new SimFleet(4);
try {
  const env = { DATABASE_URL: await pg.createDatabase("trellis") };
  const dataDir = tempDir("bench-replicas");
  const a = await startConsole({ dataDir, env: { ...env, TRELLIS_REPLICA_ID: "bench-a" }, timeoutMs: 240_000 });
  const b = await startConsole({ dataDir, env: { ...env, TRELLIS_REPLICA_ID: "bench-b" }, timeoutMs: 240_000 });
  const [apiA, apiB] = await Promise.all([openSession(a.url), openSession(b.url)]);
  const agents: SimAgentSpec[] = Array.from({ length: AGENTS }, (_, i) => ({
    service: `agent-${i}`,
    version: "v1",
    instanceId: `sim-${i}`,
    address: `127.0.0.1:${10000 + i}`,
  }));
  const onA = agents.filter((_, i) => i % 2 === 0);
  const onB = agents.filter((_, i) => i % 2 === 1);
  const t0 = Date.now();
  // In batches: a thousand hellos at once on a loaded machine outlast the simulated agents' 60-s snapshot wait.
  for (let i = 0; i < onA.length; i += 100) {
    await Promise.all([fleet.join(a.wsUrl, a.token, onA.slice(i, i + 100)), fleet.join(b.wsUrl, b.token, onB.slice(i, i + 100))]);
    log(`${Math.min(AGENTS, 2 * (i + 100))} agents joined`);
  }
  log(`${AGENTS} agents joined (${onA.length} on A, ${onB.length} on B) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const joined = agents;
  const phases: Phase[] = [];
  phases.push(await measure("idle", a, b, apiA, apiB, pg.dir));
  for (const shape of ["distinct", "shared"] as const) {
    await fleet.telemetry(plan(joined, shape, new Set(onA.map((x) => x.instanceId))));
    await sleep(2000);
    phases.push(await measure(`${shape}: A's agents report`, a, b, apiA, apiB, pg.dir));
    await fleet.telemetry(plan(joined, shape));
    await sleep(2000);
    phases.push(await measure(`${shape}: every agent reports`, a, b, apiA, apiB, pg.dir));
  }
  await fleet.telemetry({});
  const [sa, sb] = await Promise.all([replicaStats(apiA), replicaStats(apiB)]);
  console.log(
    JSON.stringify(
      {
        agents: AGENTS,
        services: SERVICES,
        seconds: SECONDS,
        phases,
        dropped: sa.bus.dropped + sb.bus.dropped,
        rejected: sa.share.chunksRejected + sb.share.chunksRejected,
      },
      null,
      2,
    ),
  );
} catch (err) {
  for (const p of runningGroups()) log(`${p.name} last output:\n${p.lastLines(15).join("\n")}`);
  throw err;
} finally {
  await fleet.close();
  await stopAll();
  await pg.stop();
}

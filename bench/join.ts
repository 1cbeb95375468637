/**
 * Join: N simulated agents (bench/lib/sim-agents.ts) connect to one real console at once — hello with the join token,
 * a CSR of each agent's own key answered by a certificate, the first snapshot acked — and the time until the last of
 * them is joined is measured. Per database and repeat, two cases:
 *   cold    a fresh console on a fresh database (every service, version and instance row is new);
 *   rejoin  that console restarted on the same data (its agents were connected: restart grace), the same agents come
 *           back at once, each resuming from the version it held.
 * The agents connect with no backoff and no stagger: the burst at its worst (real agents spread their reconnects with
 * full jitter). Keys and CSRs are made before the clock starts, as an agent has its key before it connects.
 */
import { type ConsoleHandle, postgresBinDir, startConsole, tempDir, testDatabase } from "@trellis/testkit";
import { procStats } from "./lib/procs.ts";
import type { JoinCase, JoinConfig, JoinResult, Log } from "./lib/results.ts";
import { messageOf } from "./lib/results.ts";
import type { SimAgentSpec } from "./lib/sim-agents.ts";
import { SimFleet } from "./lib/sim-fleet.ts";
import { medianMinMax, percentile } from "./lib/stats.ts";

const nowMs = () => performance.timeOrigin + performance.now();

/** Agent i: one of `services` services (two versions), so services carry several endpoints as in a real mesh. */
export function joinSpecs(agents: number, services: number): SimAgentSpec[] {
  return Array.from({ length: agents }, (_, i) => ({
    service: `join-${i % services}`,
    version: `v${1 + (Math.floor(i / services) % 2)}`,
    instanceId: `join-agent-${i}`,
    address: `127.0.0.1:${20000 + i}`,
  }));
}

interface Timed {
  lastS: number;
  p50S: number;
  /** The console's CPU seconds over the join. */
  consoleCpuS: number;
  /** Agents the console counted connected once all had joined (fewer: some were cut after joining, e.g. missed pings). */
  connectedAfter: number;
}

async function timedJoin(fleet: SimFleet, cons: ConsoleHandle, specs: SimAgentSpec[]): Promise<Timed> {
  const pid = cons.proc.pid;
  if (pid === undefined) throw new Error("the console has no pid");
  const cpu0 = procStats(pid).cpuS;
  const t0 = nowMs();
  const joinedAt = await fleet.joinAtOnce(cons.wsUrl, cons.token, specs);
  const consoleCpuS = procStats(pid).cpuS - cpu0;
  const secs = joinedAt.map((t) => (t - t0) / 1000).sort((a, b) => a - b);
  const health = (await (await fetch(`${cons.url}/healthz`)).json()) as { agents: number };
  return { lastS: secs[secs.length - 1], p50S: percentile(secs, 0.5), consoleCpuS, connectedAfter: health.agents };
}

async function oneDatabase(cfg: JoinConfig, kind: "sqlite" | "postgres", fleet: SimFleet, specs: SimAgentSpec[], log: Log): Promise<JoinCase[]> {
  const rows: { cold: Timed; rejoin: Timed }[] = [];
  for (let r = 0; r < cfg.repeats; r++) {
    const db = await testDatabase(kind);
    const dataDir = tempDir("join-console");
    let cons: ConsoleHandle | null = null;
    try {
      cons = await startConsole({ dataDir, env: db.env, timeoutMs: 240_000 });
      const cold = await timedJoin(fleet, cons, specs);
      log(
        `join ${kind} #${r + 1}: cold, ${specs.length} agents in ${cold.lastS.toFixed(2)} s (median agent ${cold.p50S.toFixed(2)} s, console CPU ${cold.consoleCpuS.toFixed(2)} s), ${cold.connectedAfter} connected after`,
      );
      // The console restarts under its connected agents; they come back once it listens again.
      await cons.proc.stop();
      await fleet.leave();
      cons = await startConsole({ dataDir, env: db.env, timeoutMs: 240_000 });
      const rejoin = await timedJoin(fleet, cons, specs);
      log(
        `join ${kind} #${r + 1}: rejoin after restart in ${rejoin.lastS.toFixed(2)} s (median agent ${rejoin.p50S.toFixed(2)} s, console CPU ${rejoin.consoleCpuS.toFixed(2)} s), ${rejoin.connectedAfter} connected after`,
      );
      rows.push({ cold, rejoin });
      await fleet.leave();
    } finally {
      await cons?.proc.stop();
      await db.stop();
    }
  }
  const summary = (which: "cold" | "rejoin"): JoinCase => ({
    database: kind,
    case: which,
    agents: specs.length,
    lastS: medianMinMax(rows.map((x) => x[which].lastS)),
    p50S: medianMinMax(rows.map((x) => x[which].p50S)),
    consoleCpuS: medianMinMax(rows.map((x) => x[which].consoleCpuS)),
    connectedAfter: rows.map((x) => x[which].connectedAfter),
  });
  return [summary("cold"), summary("rejoin")];
}

export async function joinScenario(cfg: JoinConfig, log: Log): Promise<JoinResult> {
  const specs = joinSpecs(cfg.agents, cfg.services);
  const fleet = new SimFleet(cfg.simWorkers);
  const out: JoinResult = { params: cfg, cases: [], errors: [] };
  try {
    await fleet.prepare(specs);
    for (const kind of cfg.databases) {
      if (kind === "postgres" && !postgresBinDir()) {
        out.errors.push({ database: kind, error: "PostgreSQL is not installed (apt-get install -y postgresql)" });
        continue;
      }
      try {
        out.cases.push(...(await oneDatabase(cfg, kind, fleet, specs, log)));
      } catch (e) {
        log(`join ${kind} FAILED: ${messageOf(e)}`);
        out.errors.push({ database: kind, error: messageOf(e).slice(0, 300) });
        await fleet.leave().catch(() => undefined);
      }
    }
  } finally {
    await fleet.close();
  }
  return out;
}

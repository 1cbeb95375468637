/**
 * `npm run chaos`: the demo shop under steady load, faults one after another, CHAOS.md at the repository root.
 * Not part of `npm test`; a few minutes, every wait bounded. Flags: --no-build (skip the turbo build), --rps N
 * (steady load, default 40: the shop's own default), --out FILE (default CHAOS.md).
 *
 * Everything runs on loopback; every process is a kit process group, stopped on exit (also on failure).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { adminSession, eventually, repoRoot, run, stopAll } from "@trellis/testkit";
import { runLoad } from "../examples/shop/src/loadgen.ts";
import { CALL_GRAPH } from "../examples/shop/src/topology.ts";
import { FAULTS, type FaultRun } from "./faults.ts";
import { Mesh } from "./mesh.ts";
import { OperatorView } from "./operator.ts";
import { type Outcome, writeReport } from "./report.ts";
import { Timeline } from "./timeline.ts";

const { values } = parseArgs({
  options: {
    "no-build": { type: "boolean", default: false },
    rps: { type: "string", default: "40" },
    out: { type: "string", default: "CHAOS.md" },
  },
});
const RPS = Number(values.rps);
/** How long after a fault is over the traffic is still counted as the fault's. */
const TAIL_MS = 5_000;
/** How long after a fault is over the run keeps watching before it calls recovery (or its absence). */
const OBSERVE_MS = 15_000;

const say = (msg: string) => process.stdout.write(`[chaos] ${msg}\n`);

/** The resilience the targets presume, as an operator sets it in the console: retries and outlier detection. */
const RESILIENCE = {
  retries: { attempts: 2, perTryTimeoutMs: 0, retryOn: ["5xx", "connect-failure", "reset"] },
  outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 2, intervalMs: 5_000, baseEjectionTimeMs: 10_000, maxEjectionPercent: 50 },
};

/** Aggregate CPU times from /proc/stat (user nice system idle iowait irq softirq steal). */
function cpuTimes(): { busy: number; steal: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq, steal, total: f.reduce((a, b) => a + b, 0) };
}

/** Warn-and-above lines of an instance's agent and app logs within [from, to). */
function evidence(mesh: Mesh, id: string | undefined, from: number, to: number): string[] {
  if (!id) return [];
  const out: string[] = [];
  for (const name of ["agent.log", "app.log"]) {
    const file = join(mesh.stateDir(id), name);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!/"level":"(warn|error|fatal)"/.test(line)) continue;
      const t = Date.parse(/"t":"([^"]+)"/.exec(line)?.[1] ?? "");
      if (t >= from && t < to) out.push(`${name}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
    }
  }
  return out.slice(0, 12);
}

/** The mesh being run, for the cleanup on exit. */
let current: Mesh | undefined;

async function main(): Promise<void> {
  const t0 = Date.now();
  const loadBefore = loadavg();
  if (!values["no-build"]) {
    say("building (turbo run build)…");
    await run(join(repoRoot, "node_modules/.bin/turbo"), ["run", "build", "--output-logs=errors-only"], { cwd: repoRoot, timeoutMs: 600_000 });
  }
  const cpu0 = cpuTimes();
  const mesh = new Mesh();
  current = mesh;
  say("starting the console and the shop…");
  await mesh.start();
  const operator = new OperatorView(mesh.console.url);
  await operator.start();
  const session = await adminSession(mesh.console.url);
  for (const service of Object.keys(CALL_GRAPH).filter((s) => s !== "ingress"))
    await session.mutate("traffic.update", { service, patch: RESILIENCE });
  // payments v2 is the demo's failing canary (4% of its charges fail, by design): its failures are the demo's story,
  // not a fault's, and would blur every window. The run sends payments to v1.
  await session.mutate("traffic.setSplit", { service: "payments", split: [{ version: "v1", weight: 100 }] });
  const allSynced = () => {
    const last = operator.observations.at(-1);
    return last?.ok === true && last.known === mesh.instances().length && last.unhealthy?.length === 0;
  };
  await eventually(async () => allSynced(), 60_000, "every agent connected and SYNCED with the resilience policies");
  say("every agent SYNCED; starting the steady load");

  const timeline = new Timeline();
  const ac = new AbortController();
  const steady = runLoad(
    { host: "127.0.0.1", port: mesh.webInbound(), rps: RPS, reportEveryS: 3600, seed: 42, maxInFlight: 256, timeoutMs: 10_000 },
    () => {},
    ac.signal,
    (r) => timeline.record(r),
  );
  // Warm-up (pools, JIT), then a baseline of 10 s of load.
  await eventually(async () => timeline.count >= RPS * 5, 60_000, "warm-up requests");
  const baseStart = Date.now();
  await eventually(async () => Date.now() - baseStart >= 10_000, 20_000, "baseline");
  const baseline = timeline.window(baseStart, Date.now());
  say(`baseline ${baseline.ok}/${baseline.sent}`);

  /** Every agent connected and SYNCED, and the last 3 s of traffic clean (bounded). */
  const settle = async (what: string) => {
    try {
      await eventually(
        async () => {
          const now = Date.now();
          const w = timeline.window(now - 3_000, now - 500);
          return allSynced() && w.sent > 0 && w.ok === w.sent;
        },
        90_000,
        what,
      );
    } catch (err) {
      say(`not settled: ${(err as Error).message}`);
    }
  };

  const outcomes: Outcome[] = [];
  for (const fault of FAULTS) {
    await settle(`steady state before "${fault.name}"`);
    say(`fault: ${fault.name}`);
    let r: FaultRun;
    let error: string | undefined;
    const before = Date.now();
    try {
      r = await fault.run({ mesh, timeline, rps: RPS, note: (t) => say(`  ${t}`) });
    } catch (err) {
      error = (err as Error).message.split("\n")[0];
      r = { start: before, end: Date.now(), detail: "(failed)" };
    }
    await eventually(async () => Date.now() - r.end >= OBSERVE_MS, OBSERVE_MS + 5_000, "observation");
    await settle(`recovery after "${fault.name}"`);
    const lasting = fault.lasting === true;
    const recoveryFrom = lasting ? r.end : r.start;
    const resync = operator.observations.find((o) => o.at >= r.end && o.ok && o.unhealthy?.length === 0);
    const windowEnd = r.end + TAIL_MS;
    const o: Outcome = {
      name: fault.name,
      target: fault.target,
      detail: r.detail,
      window: timeline.window(r.start, windowEnd),
      windowS: (windowEnd - r.start) / 1000,
      recoveryMs: timeline.recoveryMs(recoveryFrom, r.end + OBSERVE_MS),
      recoveryFrom: lasting ? "end" : "start",
      resyncMs: resync ? resync.at - r.end : null,
      operator: operator.summarize(r.start, r.end + OBSERVE_MS),
      evidence: evidence(mesh, fault.instance, r.start, windowEnd),
      error,
    };
    outcomes.push(o);
    say(
      `  success ${o.window.ok}/${o.window.sent}, recovery ${o.recoveryMs ?? "none"} ms, resync ${o.resyncMs ?? "none"} ms${error ? `, error: ${error}` : ""}`,
    );
  }

  ac.abort();
  await steady;
  operator.stop();
  const cpu1 = cpuTimes();
  const dt = cpu1.total - cpu0.total;
  const out = resolve(repoRoot, values.out);
  const { met, missed } = writeReport(out, outcomes, {
    cores: cpus().length,
    loadBefore,
    loadAfter: loadavg(),
    stealPct: dt > 0 ? ((cpu1.steal - cpu0.steal) / dt) * 100 : null,
    busyPct: dt > 0 ? ((cpu1.busy - cpu0.busy) / dt) * 100 : null,
    rps: RPS,
    baseline,
    durationS: (Date.now() - t0) / 1000,
    startedAt: new Date(t0).toISOString(),
  });
  // The repository's formatter owns Markdown too (tables padded): the report lands as `npm run check` wants it.
  await run(join(repoRoot, "node_modules/.bin/biome"), ["format", "--write", out], { cwd: repoRoot, timeoutMs: 60_000 }).catch((err: Error) =>
    say(`could not format ${out}: ${err.message}`),
  );
  say(`wrote ${out}: ${met} targets met, ${missed} not met`);
}

let exiting = false;
async function finish(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    // The read-only fault undoes itself; if the run was interrupted inside it, this does (or stopAll cannot clean up).
    if (current) spawnSync("chattr", ["-R", "-i", current.stateRoot], { stdio: "ignore" });
    await stopAll(3_000);
  }
  process.exit(code);
}
process.on("SIGINT", () => void finish(130));
process.on("SIGTERM", () => void finish(143));
main().then(
  () => finish(0),
  (err: Error) => {
    process.stderr.write(`[chaos] failed: ${err.stack ?? err.message}\n`);
    void finish(1);
  },
);

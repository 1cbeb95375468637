/**
 * Quick data-plane probe: client → agent A outbound → agent B inbound → app, against client → app directly.
 * Evenly spread arrivals at a fixed rate (1 ms scheduler ticks), keep-alive client, 100-byte responses.
 * Reports p50/p90/p99 latency per phase, the added latency, and the agents' RSS / CPU.
 *   node --import tsx apps/agent/scripts/bench.ts [--seconds 10] [--rates 100,1000]
 * Needs the built agent (npm run build -w @trellis/agent; AGENT_CLI=<cli.js> to measure another build). Processes come
 * from @trellis/testkit.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { type AgentHandle, spawnNode, startAgent, stopAll } from "@trellis/testkit";
import { Pool } from "undici";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, rates: { type: "string", default: "100,1000" } } });
const SECONDS = Number(values.seconds);
const RATES = values.rates.split(",").map(Number);
const CLI = process.env.AGENT_CLI || undefined;

const APP = `
const http = require("node:http");
const body = Buffer.alloc(100, 120);
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(200, {"content-type": "text/plain", "content-length": 100}); res.end(body); }); });
s.keepAliveTimeout = 65000;
s.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: s.address().port })));`;

/** An agent with a persisted snapshot (no console). */
function agent(service: string, appPort: number, services: MeshSnapshotInput["services"]): Promise<AgentHandle> {
  return startAgent({ service, appPort, cli: CLI, snapshot: { version: 1, service, services, issuedAt: new Date().toISOString() } });
}

interface ProcSample {
  rssMb: number;
  cpuS: number;
}

function procStats(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface PhaseResult {
  name: string;
  rate: number;
  achievedRps: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  agents: { rssMb: number; peakRssMb: number; cpuPct: number }[];
}

async function phase(name: string, port: number, host: string, rate: number, pids: number[]): Promise<PhaseResult> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64, keepAliveTimeout: 60_000 });
  const lat: number[] = [];
  let errors = 0;
  let inflight = 0;
  const fire = () => {
    const t0 = performance.now();
    inflight++;
    pool.request({ path: "/x", method: "GET", headers: { host } }).then(
      async (r) => {
        await r.body.dump();
        if (r.statusCode !== 200) errors++;
        lat.push(performance.now() - t0);
        inflight--;
      },
      () => {
        errors++;
        inflight--;
      },
    );
  };
  // warm-up 1 s
  for (let i = 0; i < Math.min(rate, 200); i++) fire();
  await new Promise((r) => setTimeout(r, 1000));
  lat.length = 0;
  const before = pids.map(procStats);
  let peakRss = pids.map(() => 0);
  const start = performance.now();
  let sent = 0;
  let ticks = 0;
  const total = rate * SECONDS;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        fire();
        sent++;
      }
      if (++ticks % 100 === 0) peakRss = pids.map((p, i) => Math.max(peakRss[i], procStats(p).rssMb));
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - start) / 1000;
  const after = pids.map(procStats);
  await pool.close();
  lat.sort((a, b) => a - b);
  const res: PhaseResult = {
    name,
    rate,
    achievedRps: Math.round(lat.length / elapsed),
    errors,
    p50: pct(lat, 0.5),
    p90: pct(lat, 0.9),
    p99: pct(lat, 0.99),
    agents: pids.map((_, i) => ({
      rssMb: Number(after[i].rssMb.toFixed(1)),
      peakRssMb: Number(peakRss[i].toFixed(1)),
      cpuPct: Number((((after[i].cpuS - before[i].cpuS) / elapsed) * 100).toFixed(1)),
    })),
  };
  return res;
}

try {
  const appPort = Number((await spawnNode("app", ["-e", APP]).waitFor((j) => typeof j.port === "number", 5_000, "app port")).port);
  const b = await agent("catalog", appPort, [{ name: "catalog", versions: ["v1"], endpoints: [] }]);
  const a = await agent("shop", 1, [
    { name: "catalog", versions: ["v1"], endpoints: [{ address: `127.0.0.1:${b.inbound}`, version: "v1", instanceId: "c1" }] },
  ]);
  await new Promise((r) => setTimeout(r, 1000));
  const pids = [a.proc.pid, b.proc.pid].map((pid) => {
    if (pid === undefined) throw new Error("an agent has no pid");
    return pid;
  });
  const rest = pids.map(procStats);
  console.log(`agents at rest (snapshot applied): A ${rest[0].rssMb.toFixed(1)} MB, B ${rest[1].rssMb.toFixed(1)} MB RSS`);
  for (const rate of RATES) {
    const direct = await phase("direct", appPort, "catalog", rate, pids);
    const proxied = await phase("two agents", a.outbound, "catalog", rate, pids);
    for (const r of [direct, proxied])
      console.log(
        `${r.name.padEnd(10)} ${String(r.rate).padStart(5)} rps → ${r.achievedRps} rps, errors ${r.errors}, p50 ${r.p50.toFixed(3)} ms, p90 ${r.p90.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms` +
          (r.name === "two agents" ? `; agent A ${JSON.stringify(r.agents[0])}, agent B ${JSON.stringify(r.agents[1])}` : ""),
      );
    console.log(
      `added by two agents at ${rate} rps: p50 +${(proxied.p50 - direct.p50).toFixed(3)} ms, p99 +${(proxied.p99 - direct.p99).toFixed(3)} ms`,
    );
  }
} finally {
  await stopAll();
}

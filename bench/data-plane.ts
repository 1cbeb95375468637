/**
 * Part 1 — data plane. References started in the same run:
 *   direct:  loadgen → upstream (node:http, 1 KB)
 *   mesh:    loadgen → client agent (outbound) → server agent (inbound) → upstream, both agents connected to a real
 *            console (telemetry on); mTLS STRICT through the console API once it exists (enableMtls)
 *   nginx:   loadgen → nginx A → TLS 1.3 with client certificates → nginx B → upstream (keep-alive both hops)
 * Latency at a fixed rate (open loop, CO-corrected, µs), max throughput with wrk (one agent vs one nginx worker),
 * agent CPU per 1,000 rps and peak RSS, and a CPU profile of an agent under 1,000 rps.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentHandle, eventually, startAgent, startConsole, tempDir } from "@trellis/testkit";
import { enableMtls, openSession } from "./lib/mesh-api.ts";
import { agentConfig, loadgen, pidOf, startUpstream, withCpu, wrk } from "./lib/mesh-setup.ts";
import { nginxWorkerPid, startNginxSingle, startNginxTwoHop } from "./lib/nginx.ts";
import { procStats } from "./lib/procs.ts";
import { type CpuProfile, summarizeProfile } from "./lib/profile.ts";
import type {
  DataPlaneConfig,
  DataPlaneResult,
  LatencyRun,
  LoadgenResult,
  Log,
  MedianMinMax,
  MeshAgentSample,
  MeshEdgeSample,
  Quantile,
  Quantiles,
  ThroughputRun,
} from "./lib/results.ts";
import { medianMinMax } from "./lib/stats.ts";

/** A standalone agent (no console) whose persisted snapshot routes service `bench-upstream` straight to the upstream. */
async function startStandaloneAgent(upstreamPort: number, nodeArgs: string[] = []): Promise<AgentHandle> {
  const services = [
    { name: "bench-upstream", versions: ["v1"], endpoints: [{ address: `127.0.0.1:${upstreamPort}`, version: "v1", instanceId: "up-1" }] },
  ];
  return startAgent({
    service: "bench-standalone",
    appPort: upstreamPort,
    instanceId: "bench-standalone-1",
    snapshot: { version: 1, service: "bench-standalone", services, issuedAt: new Date().toISOString() },
    nodeArgs,
  });
}

const perQuantile = <T>(f: (q: Quantile) => T): Quantiles<T> => ({ p50: f("p50"), p90: f("p90"), p99: f("p99") });

export async function dataPlane(cfg: DataPlaneConfig, log: Log): Promise<DataPlaneResult> {
  const params = {
    rate: cfg.rate,
    connections: 16,
    requests: cfg.requests,
    warmup: cfg.warmup,
    repeats: cfg.repeats,
    wrkSeconds: cfg.wrkSeconds,
    responseBytes: 1024,
  };
  const upstream = await startUpstream();
  log(`upstream on ${upstream.port}`);

  // The real mesh path: console + two agents, telemetry on.
  const cons = await startConsole({});
  const server = await startAgent({ service: "bench-upstream", version: "v1", appPort: upstream.port, console: cons.wsAgents, token: cons.token });
  const client = await startAgent({ service: "bench-client", version: "v1", appPort: upstream.port, console: cons.wsAgents, token: cons.token });
  await eventually(
    async () => {
      const cfgRes = await agentConfig(client.admin);
      const svc = cfgRes.snapshot?.services?.find((s) => s.name === "bench-upstream");
      return svc?.endpoints?.some((e) => e.address.endsWith(`:${server.inbound}`));
    },
    20_000,
    "client agent knows the server agent's endpoint",
  );
  const session = await openSession(cons.url);
  const mtlsChange = await enableMtls(session, "bench-upstream");
  const mtls = { enabled: true, procedure: mtlsChange.procedure };
  await eventually(
    async () => {
      const c = await agentConfig(client.admin);
      return c.snapshot?.services?.find((s) => s.name === "bench-upstream")?.mtls === "STRICT";
    },
    20_000,
    "client agent has bench-upstream STRICT",
  );
  log(`mesh up: client outbound ${client.outbound} → server inbound ${server.inbound}; mTLS STRICT`);
  const agentPids = [pidOf(client.proc), pidOf(server.proc)];
  const agentAtRest = agentPids.map(procStats).map((s) => ({ rssMb: s.rssMb, hwmMb: s.hwmMb }));

  const ngDir = tempDir("nginx");
  const two = await startNginxTwoHop(ngDir, upstream.port);
  log(`nginx two-hop on ${two.port}`);

  const paths = {
    direct: { port: upstream.port, host: "bench-upstream" },
    mesh: { port: client.outbound, host: "bench-upstream" },
    nginx: { port: two.port, host: "bench-upstream" },
  };
  const reps: LatencyRun[] = [];
  for (let r = 0; r < cfg.repeats; r++) {
    const rep: Partial<Record<keyof typeof paths, LoadgenResult>> = {};
    let meshAgents: MeshAgentSample[] = [];
    for (const name of ["direct", "mesh", "nginx"] as const) {
      const p = paths[name];
      const m = await withCpu(name === "mesh" ? agentPids : [], () => loadgen({ ...p, rate: cfg.rate, requests: cfg.requests, warmup: cfg.warmup }));
      rep[name] = m.result;
      if (name === "mesh") {
        const krps = m.result.achievedRps / 1000;
        meshAgents = agentPids.map((_, i) => ({ cpuPer1kRps: m.cpu[i] / krps, cpu: m.cpu[i], rssMb: m.mem[i].rssMb, hwmMb: m.mem[i].hwmMb }));
      }
      const l = m.result.latencyUs;
      log(
        `rep ${r + 1} ${name}: p50 ${l.p50} µs p90 ${l.p90} p99 ${l.p99} (${m.result.requests} req, ${m.result.errors} err, ${m.result.non2xx} non-2xx, late p50 ${m.result.lateUs.p50} µs)`,
      );
    }
    const { direct, mesh, nginx } = rep;
    if (!direct || !mesh || !nginx) throw new Error("a latency path was not measured");
    const added = (path: LoadgenResult) => perQuantile((q) => (path.latencyUs[q] - direct.latencyUs[q]) / 1000);
    reps.push({ direct, mesh, meshAgents, nginx, meshAdded: added(mesh), nginxAdded: added(nginx) });
  }
  const agg = (f: (r: LatencyRun) => number | null): MedianMinMax => medianMinMax(reps.map(f));
  const latency = {
    directMs: perQuantile((q) => agg((r) => r.direct.latencyUs[q] / 1000)),
    meshAddedMs: perQuantile((q) => agg((r) => r.meshAdded[q])),
    nginxAddedMs: perQuantile((q) => agg((r) => r.nginxAdded[q])),
    p99RatioToNginx: agg((r) => (r.nginxAdded.p99 > 0 ? r.meshAdded.p99 / r.nginxAdded.p99 : null)),
    errors: reps.reduce((s, r) => s + r.mesh.errors + r.mesh.non2xx + r.nginx.errors + r.nginx.non2xx + r.direct.errors + r.direct.non2xx, 0),
  };
  const agentCpu = {
    client: agg((r) => r.meshAgents[0].cpuPer1kRps),
    server: agg((r) => r.meshAgents[1].cpuPer1kRps),
  };
  const hwm = agentPids.map((pid) => procStats(pid).hwmMb);
  const agentPeakRssMb = { client: hwm[0], server: hwm[1] };
  let meshEdge: MeshEdgeSample | null;
  try {
    const edges = await session.liveEdges();
    const e = edges.find((x) => x.source === "bench-client" && x.destination === "bench-upstream");
    meshEdge = e ? { rps: e.rps, p99Ms: e.p99Ms, mtlsShare: e.mtlsShare } : null;
  } catch (err) {
    meshEdge = { error: String(err) };
  }
  for (const p of two.procs) await p.stop();
  await client.proc.stop();
  await server.proc.stop();
  await cons.proc.stop();

  // Max throughput: one agent (outbound → upstream) vs one nginx worker, same upstream, wrk -c16.
  const single = await startNginxSingle(ngDir, upstream.port);
  const ngWorker = await nginxWorkerPid(pidOf(single.proc));
  const standalone = await startStandaloneAgent(upstream.port);
  const tp: ThroughputRun[] = [];
  for (let r = 0; r < cfg.repeats; r++) {
    const direct = await wrk({ port: upstream.port, host: "bench-upstream", seconds: cfg.wrkSeconds });
    const a = await withCpu([pidOf(standalone.proc)], () => wrk({ port: standalone.outbound, host: "bench-upstream", seconds: cfg.wrkSeconds }));
    const n = await withCpu([ngWorker], () => wrk({ port: single.port, host: "bench-upstream", seconds: cfg.wrkSeconds }));
    const row: ThroughputRun = {
      directRps: direct.rps,
      agentRps: a.result.rps,
      nginxRps: n.result.rps,
      ratio: a.result.rps / n.result.rps,
      agentCpu: a.cpu[0],
      nginxCpu: n.cpu[0],
      agentCpuPerReqRatio: a.cpu[0] / a.result.rps / (n.cpu[0] / n.result.rps),
      agentNon2xx: a.result.non2xx,
      nginxNon2xx: n.result.non2xx,
    };
    log(
      `throughput rep ${r + 1}: direct ${Math.round(direct.rps)} rps, agent ${Math.round(row.agentRps)} (${(row.agentCpu * 100).toFixed(0)}% CPU), nginx worker ${Math.round(row.nginxRps)} (${(row.nginxCpu * 100).toFixed(0)}% CPU) → ${(row.ratio * 100).toFixed(0)}%`,
    );
    tp.push(row);
  }
  const throughput = {
    directRps: medianMinMax(tp.map((t) => t.directRps)),
    agentRps: medianMinMax(tp.map((t) => t.agentRps)),
    nginxRps: medianMinMax(tp.map((t) => t.nginxRps)),
    ratio: medianMinMax(tp.map((t) => t.ratio)),
    agentCpuPerReqRatio: medianMinMax(tp.map((t) => t.agentCpuPerReqRatio)),
  };
  await standalone.proc.stop();
  await single.proc.stop();

  // CPU profile of one agent carrying 1,000 rps (outbound → upstream).
  const profDir = tempDir("cpuprof");
  const prof = await startStandaloneAgent(upstream.port, ["--cpu-prof", `--cpu-prof-dir=${profDir}`]);
  const profFromUs = Number(process.hrtime.bigint() / 1000n);
  await loadgen({ port: prof.outbound, host: "bench-upstream", rate: cfg.rate, requests: cfg.profileRequests, warmup: 500 });
  await prof.proc.stop("SIGINT");
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  const profile = file
    ? summarizeProfile(JSON.parse(readFileSync(join(profDir, file), "utf8")) as CpuProfile, 15, profFromUs)
    : { error: "no profile written" };
  if (file && cfg.keepProfile) {
    mkdirSync(cfg.keepProfile, { recursive: true });
    writeFileSync(join(cfg.keepProfile, "agent-1000rps.cpuprofile"), readFileSync(join(profDir, file)));
  }
  await upstream.proc.stop();
  return {
    params,
    mtls,
    agentAtRest,
    latencyRuns: reps,
    latency,
    agentCpu,
    agentPeakRssMb,
    meshEdge,
    throughputRuns: tp,
    throughput,
    profile,
  };
}

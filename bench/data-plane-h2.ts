/**
 * Part 1b — HTTP/2 and gRPC through the data plane, beside nginx as the same two hops (issue 10). One console, two
 * server agents (bench-upstream → the 1 KB node:http upstream; bench-grpc → a @grpc/grpc-js server) and two client
 * agents (`--mesh-protocol h2`, the default, and `http1`), every agent hop mTLS STRICT through the console API.
 *   h2-fixed:   h2load (h2c) at a fixed rate → client agent → h2 over mTLS → server agent → HTTP/1.1 upstream, beside
 *               nginx A (h2c) → grpc_pass over TLS with client certificates, h2 → nginx B → HTTP/1.1 upstream, and
 *               h2load straight to the upstream's h2c port (the direct reference).
 *   grpc-fixed: h2load posting a gRPC unary call at a fixed rate → the agents → the gRPC server, beside nginx grpc_pass
 *               × 2 (the second hop h2c to the server) and h2load straight to the server.
 *   grpc-max:   the same three gRPC paths as fast as h2load goes.
 *   http1-mesh-protocol: bench/lib/loadgen.ts (HTTP/1.1, open loop) through the h2 client agent and the http1 one.
 * Every gRPC path is checked first with a real @grpc/grpc-js call (h2load sees HTTP statuses, not grpc-status).
 */
import os from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type AgentHandle, eventually, type ProcessGroup, repoRoot, spawnNode, startAgent, startConsole, tempDir } from "@trellis/testkit";
import { benchService, ECHO_PATH } from "./lib/grpc-upstream.ts";
import { GRPC_HEADERS, grpcFrame, h2load } from "./lib/h2load.ts";
import { enableMtls, openSession } from "./lib/mesh-api.ts";
import { agentConfig, loadgen, pidOf, startUpstream, withCpu } from "./lib/mesh-setup.ts";
import { nginxWorkerPid, startNginxTwoHop, startNginxTwoHopH2 } from "./lib/nginx.ts";
import { machineCpuTicks, procStats } from "./lib/procs.ts";
import {
  type DataPlaneH2Config,
  type DataPlaneH2Result,
  type GrpcMaxRun,
  type H2PathSummary,
  type H2Scenario,
  type LatencySummary,
  type Log,
  type MedianMinMax,
  messageOf,
  type Quantile,
  type Quantiles,
} from "./lib/results.ts";
import { medianMinMax } from "./lib/stats.ts";

const GRPC_UPSTREAM = join(repoRoot, "bench/lib/grpc-upstream.ts");
const GRPC_REQUEST = Buffer.alloc(64, "r");

async function startGrpcUpstream(): Promise<{ proc: ProcessGroup; port: number }> {
  const proc = spawnNode("grpc-upstream", ["--import", "tsx", GRPC_UPSTREAM]);
  const line = await proc.waitFor((l) => l.msg === "grpc upstream listening", 10_000, "grpc upstream listening");
  return { proc, port: Number(line.port) };
}

/** One unary call with @grpc/grpc-js to `port` as `authority`: throws unless it returns the 1 KB reply. */
async function grpcCheck(port: number, authority: string): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(benchService, "Bench");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
  try {
    const reply = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        ECHO_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        GRPC_REQUEST,
        { deadline: Date.now() + 10_000 },
        (err: grpc.ServiceError | null, res?: Buffer) => (err || !res ? reject(err ?? new Error("no reply")) : resolve(res)),
      ),
    );
    if (reply.length !== 1024) throw new Error(`gRPC check via :${port}: reply of ${reply.length} bytes, not 1024`);
  } finally {
    client.close();
  }
}

/** A path measured at a fixed rate: one run gives its latency (µs), achieved rate and failed requests. */
interface FixedRatePath {
  path: string;
  /** Client and server agent pids (CPU per 1,000 rps is sampled for them). */
  agents?: [number, number];
  run: () => Promise<{ latencyUs: LatencySummary; rps: number; errors: number }>;
}

/** Runs every path once per repeat (interleaved, so slow drift in the machine's load hits them alike). */
async function fixedRate(repeats: number, paths: FixedRatePath[], log: Log, label: string): Promise<H2PathSummary[]> {
  const runs = paths.map(() => [] as { latencyUs: LatencySummary; rps: number; errors: number; cpu: number[] | null; rep: number }[]);
  const unfinished = paths.map(() => 0);
  for (let r = 0; r < repeats; r++) {
    for (const [i, p] of paths.entries()) {
      let m: Awaited<ReturnType<typeof withCpu<Awaited<ReturnType<FixedRatePath["run"]>>>>>;
      try {
        m = await withCpu(p.agents ?? [], p.run);
      } catch (err) {
        // A run that did not finish in time (a starved machine): counted as such, the other paths still measured.
        log(`${label} rep ${r + 1} ${p.path}: did not finish — ${messageOf(err).slice(0, 200)}`);
        unfinished[i]++;
        continue;
      }
      const krps = m.result.rps / 1000;
      runs[i].push({ ...m.result, cpu: p.agents ? m.cpu.map((c) => c / krps) : null, rep: r });
      const l = m.result.latencyUs;
      log(`${label} rep ${r + 1} ${p.path}: p50 ${l.p50} µs p99 ${l.p99} µs, ${Math.round(m.result.rps)} rps, ${m.result.errors} errors`);
    }
  }
  const direct = runs[0];
  const per = (f: (q: Quantile) => MedianMinMax): Quantiles<MedianMinMax> => ({ p50: f("p50"), p90: f("p90"), p99: f("p99") });
  return paths.map((p, i) => ({
    path: p.path,
    latencyMs: per((q) => medianMinMax(runs[i].map((x) => x.latencyUs[q] / 1000))),
    addedMs: i === 0 ? null : per((q) => medianMinMax(runs[i].map((x) => added(x.latencyUs[q], direct.find((d) => d.rep === x.rep)?.latencyUs[q])))),
    rps: medianMinMax(runs[i].map((x) => x.rps)),
    errors: runs[i].reduce((s, x) => s + x.errors, 0),
    unfinishedRuns: unfinished[i],
    ...(p.agents
      ? {
          agentCpuPer1kRps: {
            client: medianMinMax(runs[i].map((x) => x.cpu?.[0])),
            server: medianMinMax(runs[i].map((x) => x.cpu?.[1])),
          },
        }
      : {}),
  }));
}

/** What a path adds to the direct one in the same repeat (ms), null when either was not measured. */
const added = (us: number, directUs: number | undefined): number | null => (directUs === undefined ? null : (us - directUs) / 1000);

async function waitMtls(client: AgentHandle, service: string, serverInbound: number): Promise<void> {
  await eventually(
    async () => {
      const svc = (await agentConfig(client.admin)).snapshot?.services?.find((s) => s.name === service);
      return svc?.mtls === "STRICT" && svc.endpoints?.some((e) => e.address.endsWith(`:${serverInbound}`));
    },
    20_000,
    `client agent on :${client.admin} has ${service} STRICT at :${serverInbound}`,
  );
}

export async function dataPlaneH2(cfg: DataPlaneH2Config, log: Log): Promise<DataPlaneH2Result> {
  const loadavgBefore = os.loadavg();
  const ticksBefore = machineCpuTicks();
  const upstream = await startUpstream();
  const grpcUp = await startGrpcUpstream();
  const cons = await startConsole({});
  const agent = (service: string, appPort: number, args: string[] = []) =>
    startAgent({ service, version: "v1", appPort, console: cons.wsAgents, token: cons.token, args });
  const server = await agent("bench-upstream", upstream.port);
  const grpcServer = await agent("bench-grpc", grpcUp.port);
  const client = await agent("bench-client", upstream.port);
  const clientH1 = await agent("bench-client-h1", upstream.port, ["--mesh-protocol", "http1"]);
  const session = await openSession(cons.url);
  for (const svc of ["bench-upstream", "bench-grpc"]) await enableMtls(session, svc);
  for (const c of [client, clientH1]) {
    await waitMtls(c, "bench-upstream", server.inbound);
    await waitMtls(c, "bench-grpc", grpcServer.inbound);
  }
  log(
    `h2: mesh up (mTLS STRICT): clients :${client.outbound} (h2) :${clientH1.outbound} (http1) → servers :${server.inbound} :${grpcServer.inbound}`,
  );
  const pid = { client: pidOf(client.proc), clientH1: pidOf(clientH1.proc), server: pidOf(server.proc), grpcServer: pidOf(grpcServer.proc) };
  const rss = (f: (p: number) => number | null) => Object.fromEntries(Object.entries(pid).map(([k, p]) => [k, f(p)]));
  const agentAtRestRssMb = rss((p) => procStats(p).rssMb);

  const dir = tempDir("nginx-h2");
  const ngH2 = await startNginxTwoHopH2(join(dir, "h2"), upstream.port, "http1");
  const ngGrpc = await startNginxTwoHopH2(join(dir, "grpc"), grpcUp.port, "grpc");
  const ngH1 = await startNginxTwoHop(join(dir, "h1"), upstream.port);
  for (const [port, authority] of [
    [grpcUp.port, "bench-grpc"],
    [client.outbound, "bench-grpc"],
    [ngGrpc.port, "bench-grpc"],
  ] as const)
    await grpcCheck(port, authority);
  log("h2: gRPC unary answered through every path (@grpc/grpc-js)");

  const fixed = { seconds: cfg.seconds, warmupSeconds: cfg.warmupSeconds, rate: cfg.rate, connections: 4, streams: 32 };
  const viaH2load = (port: number, authority: string, grpcBody: boolean) => async () => {
    const r = await h2load({
      ...fixed,
      port,
      authority,
      ...(grpcBody ? { body: grpcFrame(GRPC_REQUEST), headers: GRPC_HEADERS, path: ECHO_PATH } : {}),
    });
    return { latencyUs: r.latencyUs, rps: r.rps, errors: r.failed };
  };
  const h2loadText = (what: string) =>
    `h2load ${what}, ${cfg.rate} requests/s (--rps over ${fixed.connections} h2c connections, ≤ ${fixed.streams} streams each), ${cfg.seconds} s measured after ${cfg.warmupSeconds} s warm-up; latency from each request's send (h2load's log)`;
  const scenarios: H2Scenario[] = [];
  scenarios.push({
    id: "h2-fixed",
    title: "HTTP/2 (h2c from the client) at a fixed rate, two hops, HTTP/1.1 to the app",
    client: h2loadText("GET /"),
    paths: await fixedRate(
      cfg.repeats,
      [
        { path: "direct (h2c to the upstream)", run: viaH2load(upstream.h2Port, "bench-upstream", false) },
        { path: "agent → agent (h2, mTLS)", agents: [pid.client, pid.server], run: viaH2load(client.outbound, "bench-upstream", false) },
        { path: "nginx → nginx (grpc_pass h2, mTLS)", run: viaH2load(ngH2.port, "bench-upstream", false) },
      ],
      log,
      "h2-fixed",
    ),
  });
  scenarios.push({
    id: "grpc-fixed",
    title: "gRPC unary at a fixed rate, two hops",
    client: h2loadText(`POST ${ECHO_PATH} with a ${GRPC_REQUEST.length}-byte gRPC message`),
    paths: await fixedRate(
      cfg.repeats,
      [
        { path: "direct (to the gRPC server)", run: viaH2load(grpcUp.port, "bench-grpc", true) },
        { path: "agent → agent (h2, mTLS)", agents: [pid.client, pid.grpcServer], run: viaH2load(client.outbound, "bench-grpc", true) },
        { path: "nginx → nginx (grpc_pass, mTLS)", run: viaH2load(ngGrpc.port, "bench-grpc", true) },
      ],
      log,
      "grpc-fixed",
    ),
  });
  const viaLoadgen = (port: number) => async () => {
    const r = await loadgen({ port, host: "bench-upstream", rate: cfg.rate, requests: cfg.http1Requests, warmup: cfg.http1Warmup });
    return { latencyUs: r.latencyUs, rps: r.achievedRps, errors: r.errors + r.non2xx };
  };
  scenarios.push({
    id: "http1-mesh-protocol",
    title: "HTTP/1.1 from the app, two hops: HTTP/2 vs HTTP/1.1 between the agents",
    client: `bench/lib/loadgen.ts (open loop, ${cfg.rate} rps over 16 keep-alive connections, ${cfg.http1Requests.toLocaleString("en")} measured requests after ${cfg.http1Warmup} warm-up, latency from the intended send time)`,
    paths: await fixedRate(
      cfg.repeats,
      [
        { path: "direct", run: viaLoadgen(upstream.port) },
        { path: "agent → agent, --mesh-protocol h2", agents: [pid.client, pid.server], run: viaLoadgen(client.outbound) },
        { path: "agent → agent, --mesh-protocol http1", agents: [pid.clientH1, pid.server], run: viaLoadgen(clientH1.outbound) },
        { path: "nginx → nginx (HTTP/1.1, mTLS)", run: viaLoadgen(ngH1.port) },
      ],
      log,
      "http1",
    ),
  });

  // Maximum gRPC unary throughput: the two agents vs nginx grpc_pass × 2 (one worker each), h2load as fast as it goes.
  const ngWorkers = await Promise.all(ngGrpc.procs.map((p) => nginxWorkerPid(pidOf(p))));
  const max = {
    seconds: cfg.maxSeconds,
    warmupSeconds: 1,
    connections: 8,
    streams: 32,
    body: grpcFrame(GRPC_REQUEST),
    headers: GRPC_HEADERS,
    path: ECHO_PATH,
  };
  const runs: GrpcMaxRun[] = [];
  for (let r = 0; r < cfg.repeats; r++) {
    const direct = await h2load({ ...max, port: grpcUp.port, authority: "bench-grpc" });
    const a = await withCpu([pid.client, pid.grpcServer], () => h2load({ ...max, port: client.outbound, authority: "bench-grpc" }));
    const n = await withCpu(ngWorkers, () => h2load({ ...max, port: ngGrpc.port, authority: "bench-grpc" }));
    const bad = (x: typeof direct) => x.failed;
    runs.push({
      directRps: direct.rps,
      agentsRps: a.result.rps,
      nginxRps: n.result.rps,
      ratio: a.result.rps / n.result.rps,
      agentsCpu: a.cpu,
      nginxCpu: n.cpu,
      agentsErrors: bad(a.result),
      nginxErrors: bad(n.result),
    });
    log(
      `grpc-max rep ${r + 1}: direct ${Math.round(direct.rps)} rps, agents ${Math.round(a.result.rps)} (CPU ${a.cpu.map((c) => c.toFixed(2)).join(" + ")}), nginx ${Math.round(n.result.rps)} (CPU ${n.cpu.map((c) => c.toFixed(2)).join(" + ")})`,
    );
  }
  const agentPeakRssMb = rss((p) => procStats(p).hwmMb);
  for (const p of [...ngH2.procs, ...ngGrpc.procs, ...ngH1.procs]) await p.stop();
  for (const a of [client, clientH1, server, grpcServer]) await a.proc.stop();
  await cons.proc.stop();
  await grpcUp.proc.stop();
  await upstream.proc.stop();
  const ticksAfter = machineCpuTicks();
  const ticks = ticksAfter.total - ticksBefore.total;
  return {
    params: { ...cfg, responseBytes: 1024, grpcRequestBytes: GRPC_REQUEST.length },
    noise: { loadavgBefore, loadavgAfter: os.loadavg(), stealShare: ticks > 0 ? (ticksAfter.steal - ticksBefore.steal) / ticks : null },
    scenarios,
    grpcMax: {
      client: `h2load as fast as it goes: ${max.connections} h2c connections × ≤ ${max.streams} streams, ${cfg.maxSeconds} s after 1 s warm-up`,
      runs,
      directRps: medianMinMax(runs.map((x) => x.directRps)),
      agentsRps: medianMinMax(runs.map((x) => x.agentsRps)),
      nginxRps: medianMinMax(runs.map((x) => x.nginxRps)),
      ratio: medianMinMax(runs.map((x) => x.ratio)),
    },
    agentPeakRssMb,
    agentAtRestRssMb,
  };
}

import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcFrame, logLatency, parseH2loadSummary } from "../lib/h2load.ts";
import { evaluateTargets, renderPartial, spliceTargets } from "../lib/render.ts";
import { H2_HEADING, renderDataPlaneH2 } from "../lib/render-h2.ts";
import type { BenchResults, DataPlaneH2Result, H2PathSummary, MedianMinMax } from "../lib/results.ts";
import { cpuTicksFromProcStat } from "../lib/stats.ts";

const r1 = (v: number): MedianMinMax => ({ median: v, min: v, max: v, n: 1 });
const q = (p50: number, p99: number) => ({ p50: r1(p50), p90: r1(p50), p99: r1(p99) });

// h2load 1.52's summary, as it prints it.
const H2LOAD_OUT = `finished in 4.00s, 1016.00 req/s, 1.03MB/s
requests: 3048 total, 3016 started, 3048 done, 3040 succeeded, 8 failed, 5 errored, 0 timeout
status codes: 3045 2xx, 0 3xx, 0 4xx, 3 5xx
traffic: 3.08MB (3231156) total, 35.64KB (36492) headers (space savings 89.01%), 3.91MB (4096000) data`;

test("h2load's summary is read: rate, outcomes, 2xx", () => {
  assert.deepEqual(parseH2loadSummary(H2LOAD_OUT), { rps: 1016, total: 3048, succeeded: 3040, failed: 8, errored: 5, status2xx: 3045 });
});

test("h2load's request log gives latency after the warm-up, 2xx only", () => {
  const log = ["100\t200\t5000", "2000\t200\t300", "2001\t200\t100", "2002\t503\t50", "2003\t200\t200", ""].join("\n");
  const { latencyUs, non2xx } = logLatency(log, 1000);
  assert.equal(latencyUs.count, 3); // the 5 ms request started before 1000 µs is the warm-up's
  assert.equal(latencyUs.p50, 200);
  assert.equal(latencyUs.max, 300);
  assert.equal(non2xx, 1);
});

test("a gRPC message frame: uncompressed flag, big-endian length, message", () => {
  const f = grpcFrame(Buffer.from("abc"));
  assert.deepEqual([...f], [0, 0, 0, 0, 3, 97, 98, 99]);
});

test("/proc/stat: total and stolen ticks of the machine", () => {
  const t = cpuTicksFromProcStat("cpu  100 5 50 800 10 1 2 32 7 0\ncpu0 1 2 3 4 5 6 7 8 9 0\n");
  assert.deepEqual(t, { total: 1000, steal: 32 });
});

const path = (name: string, p50: number, p99: number, added: [number, number] | null, cpu?: [number, number]): H2PathSummary => ({
  path: name,
  latencyMs: q(p50, p99),
  addedMs: added ? q(added[0], added[1]) : null,
  rps: r1(1000),
  errors: 0,
  ...(cpu ? { agentCpuPer1kRps: { client: r1(cpu[0]), server: r1(cpu[1]) } } : {}),
});

const h2: DataPlaneH2Result = {
  params: {
    rate: 1000,
    seconds: 8,
    warmupSeconds: 2,
    maxSeconds: 5,
    http1Requests: 8000,
    http1Warmup: 1000,
    repeats: 1,
    responseBytes: 1024,
    grpcRequestBytes: 64,
  },
  noise: { loadavgBefore: [6, 5, 4], loadavgAfter: [7, 6, 5], stealShare: 0.01 },
  scenarios: [
    {
      id: "grpc-fixed",
      title: "gRPC unary at a fixed rate, two hops",
      client: "h2load",
      paths: [
        path("direct", 0.5, 2, null),
        path("agent → agent (h2, mTLS)", 1, 5, [0.5, 3], [0.2, 0.3]),
        path("nginx → nginx (grpc_pass, mTLS)", 0.7, 3, [0.2, 1]),
      ],
    },
    {
      id: "http1-mesh-protocol",
      title: "HTTP/1.1",
      client: "loadgen",
      paths: [
        path("direct", 0.3, 1, null),
        path("agent → agent, --mesh-protocol h2", 0.5, 2.5, [0.2, 1.5], [0.12, 0.1]),
        path("agent → agent, --mesh-protocol http1", 0.6, 3, [0.3, 2], [0.2, 0.2]),
        path("nginx → nginx (HTTP/1.1, mTLS)", 0.4, 1.5, [0.1, 0.5]),
      ],
    },
  ],
  grpcMax: {
    client: "h2load max",
    runs: [],
    directRps: r1(9000),
    agentsRps: r1(2000),
    nginxRps: r1(5000),
    ratio: r1(0.4),
  },
  agentPeakRssMb: { client: 90, server: 80 },
  agentAtRestRssMb: { client: 70, server: 60 },
};
const base: Omit<BenchResults, "dataPlaneH2"> = {
  quick: true,
  date: "2026-12-02T18:00:00.000Z",
  machine: {
    cpus: 2,
    cpuModel: "cpu",
    memGb: 24,
    kernel: "Linux",
    loadavg: [6, 5, 4],
    node: "20",
    nginx: "1.22.1",
    wrk: "4",
    chromium: "1",
    openssl: "3",
    git: "abc",
  },
};

test("the h2 part judges the gRPC throughput target, and the two-hop targets from HTTP/2 between agents when the data plane did not run", () => {
  const t = Object.fromEntries(evaluateTargets({ ...base, dataPlaneH2: h2 }).map((x) => [x.id, x]));
  assert.equal(t["grpc-max"].met, false);
  assert.match(t["grpc-max"].measured, /^40% \(2000 vs 5000 rps\)/);
  assert.equal(t["lat-p50"].met, true); // +0.2 ms on the h2 path, not the http1 one's +0.3
  assert.equal(t["lat-p99"].met, false);
  assert.match(t["lat-vs-nginx"].measured, /^3\.0×/);
  assert.equal(t.cpu.met, true);
  assert.equal(t.rss.met, false);
});

test("the h2 section shows every path, the added latency, the nginx ratio and the noise", () => {
  const md = renderDataPlaneH2(h2, base.date);
  assert.ok(md.startsWith(H2_HEADING));
  assert.match(md, /\| agent → agent \(h2, mTLS\) \| 1\.000 \| 1\.000 \| 5\.000 \| \+0\.500 \| \+3\.000 \| 1000 \| 0 \| 0\.200 \/ 0\.300 \|/);
  assert.match(md, /Agents' added p99 ÷ nginx's: 3\.0×/);
  assert.match(md, /busy, shared machine/);
  assert.match(md, /agents \/ nginx \| 40 %/);
});

test("a partial run replaces its target rows and sections and keeps the others", () => {
  const md = [
    "# Benchmarks",
    "",
    "## Targets",
    "",
    "| target | measured (median) | verdict | note |",
    "|---|---|---|---|",
    "| two-hop added p50 at 1,000 rps ≤ 0.25 ms    | 0.39 ms | **not met** |  |",
    "| agent CPU ≤ 0.15 vCPU per 1,000 rps | client 0.266 | **not met** |  |",
    "| config push p99 ≤ 100 ms at 100 agents | 69 ms | **met** |  |",
    "",
    "## Control plane",
    "",
    "push table",
    "",
    "## Optimisations behind these figures",
    "notes",
  ].join("\n");
  const out = renderPartial(md, { ...base, dataPlaneH2: h2 });
  assert.match(out, /\| two-hop added p50 at 1,000 rps ≤ 0\.25 ms \| 0\.20 ms \| \*\*met\*\* \| h2 part/);
  assert.match(out, /\| config push p99 ≤ 100 ms at 100 agents \| 69 ms \| \*\*met\*\* \|/);
  assert.equal(out.split("\n").filter((l) => l.includes("two-hop added p50")).length, 1); // padded row matched
  const unmeasured = structuredClone(h2);
  unmeasured.scenarios[1].paths[1].agentCpuPer1kRps = undefined;
  assert.match(renderPartial(md, { ...base, dataPlaneH2: unmeasured }), /\| agent CPU ≤ 0\.15 vCPU per 1,000 rps \| client 0\.266 \|/);
  assert.match(out, /\| gRPC unary max throughput .* \| 40% .* \| \*\*not met\*\* \|/);
  // the new rows stay inside the table, the h2 section lands before the notes, the control plane is kept
  const lines = out.split("\n");
  assert.equal(lines.indexOf("## Control plane") > lines.findIndex((l) => l.startsWith("| gRPC unary")), true);
  assert.ok(out.indexOf(H2_HEADING) < out.indexOf("## Optimisations behind these figures"));
  assert.ok(out.includes("push table"));
  assert.equal(spliceTargets(out, evaluateTargets({ ...base, dataPlaneH2: h2 })), out); // idempotent
  const withNotes = renderPartial(md, { ...base, dataPlaneH2: h2 }, "## Optimisations behind these figures\nnew notes\n");
  assert.ok(withNotes.endsWith("## Optimisations behind these figures\nnew notes\n"));
  assert.ok(!withNotes.includes("\nnotes"));
});

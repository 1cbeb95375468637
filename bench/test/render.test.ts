import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateTargets, JOIN_HEADING, mmm, renderJoin, renderMarkdown, spliceSection } from "../lib/render.ts";
import type { BenchResults } from "../lib/results.ts";

const r1 = (v: number) => ({ median: v, min: v, max: v, n: 1 });
const result: BenchResults = {
  quick: true,
  date: "2026-11-21T12:00:00.000Z",
  file: "2026-11-21-quick.json",
  machine: {
    cpus: 2,
    cpuModel: "cpu",
    memGb: 24,
    kernel: "Linux",
    loadavg: [1, 1, 1],
    node: "20.20.2",
    nginx: "1.22.1",
    wrk: "4.1.0",
    chromium: "1",
    openssl: "3",
    git: "abc",
  },
  dataPlane: {
    params: { rate: 1000, connections: 16, requests: 10000, warmup: 1000, repeats: 1, wrkSeconds: 4, responseBytes: 1024 },
    mtls: { enabled: false, label: "mTLS: not yet available", reason: "none" },
    latency: {
      directMs: { p50: r1(0.2), p90: r1(0.3), p99: r1(1) },
      meshAddedMs: { p50: r1(0.2), p90: r1(0.5), p99: r1(1.5) },
      nginxAddedMs: { p50: r1(0.1), p90: r1(0.2), p99: r1(0.5) },
      p99RatioToNginx: r1(3),
      errors: 0,
    },
    throughput: {
      directRps: r1(30000),
      agentRps: r1(10000),
      nginxRps: r1(20000),
      ratio: { median: 0.5, min: 0.4, max: 0.6, n: 3 },
      agentCpuPerReqRatio: r1(3),
    },
    agentCpu: { client: r1(0.1), server: r1(0.2) },
    agentAtRest: [{ rssMb: 60 }, { rssMb: 61 }],
    agentPeakRssMb: { client: 70, server: 50 },
    meshEdge: null,
  },
};

test("mmm prints median with min–max only for repeated runs", () => {
  assert.equal(mmm(r1(1.234)), "1.23");
  assert.equal(mmm({ median: 0.5, min: 0.4, max: 0.6, n: 3 }, 0, 100), "50 (40–60)");
  assert.equal(mmm(null), "—");
});

test("targets are judged met / not met with the measured figure", () => {
  const t = Object.fromEntries(evaluateTargets(result).map((x) => [x.id, x]));
  assert.equal(t["lat-p50"].met, true);
  assert.equal(t["lat-p99"].met, false);
  assert.equal(t["lat-vs-nginx"].met, false);
  assert.equal(t.throughput.met, true);
  assert.equal(t.cpu.met, false); // the worse agent counts
  assert.equal(t.rss.met, false);
  assert.match(t["lat-p50"].note, /mTLS: not yet available/);
});

test("BENCHMARKS.md says quick runs are indicative and marks each target", () => {
  const md = renderMarkdown(result, "## Notes\nhello");
  assert.match(md, /Quick run on a busy, shared machine/);
  assert.match(md, /\| two-hop added p50 at 1,000 rps ≤ 0.25 ms \| 0.20 ms \| \*\*met\*\*/);
  assert.match(md, /\*\*not met\*\*/);
  assert.match(md, /mTLS: not yet available/);
  assert.ok(md.trimEnd().endsWith("hello"));
});

const joinResult = (lastS: number, agents = 1000): BenchResults["join"] => ({
  params: { agents, services: 250, repeats: 3, simWorkers: 4, databases: ["sqlite"] },
  cases: [
    {
      database: "sqlite",
      case: "cold",
      agents,
      lastS: { median: lastS, min: lastS - 1, max: lastS + 1, n: 3 },
      p50S: r1(lastS / 2),
      consoleCpuS: { median: 5.5, min: 5.25, max: 5.75, n: 3 },
    },
    { database: "sqlite", case: "rejoin", agents, lastS: r1(lastS / 3), p50S: r1(lastS / 4) },
  ],
  errors: [],
});

test("the join target is judged on the slowest case at 1,000 agents, and not judged on a smaller fleet", () => {
  const met = evaluateTargets({ ...result, join: joinResult(6.5) }).find((t) => t.id === "join");
  assert.equal(met?.met, true);
  assert.match(met?.measured ?? "", /6\.5 s \(sqlite, cold/);
  assert.equal(evaluateTargets({ ...result, join: joinResult(12) }).find((t) => t.id === "join")?.met, false);
  assert.equal(evaluateTargets({ ...result, join: joinResult(3, 200) }).find((t) => t.id === "join")?.met, null);
});

test("a join-only run replaces just the join section of BENCHMARKS.md, or adds it before the optimisations", () => {
  const md = "# B\n\n## Control plane\n\npush\n\n## Optimisations behind these figures\n\nwhy\n";
  const first = spliceSection(md, JOIN_HEADING, renderJoin(joinResult(6)!, "2026-12-02"));
  assert.match(
    first,
    /## Control plane\n\npush\n\n## Agents joining\n[\s\S]*\| sqlite \| cold \| 1000 \| 6\.00 \(5\.00–7\.00\) \|[\s\S]*\n\n## Optimisations/,
  );
  const second = spliceSection(first, JOIN_HEADING, renderJoin(joinResult(4)!, "2026-12-03"));
  assert.equal(second.match(/## Agents joining/g)?.length, 1);
  assert.match(second, /4\.00 \(3\.00–5\.00\)/);
  assert.doesNotMatch(second, /6\.00/);
  assert.match(second, /## Optimisations behind these figures\n\nwhy\n$/);
  // The console's CPU over the join where it was measured; a dash for results from before it was.
  assert.match(second, /\| sqlite \| cold \| 1000 \| 4\.00 \(3\.00–5\.00\) \| 2\.00 \| 5\.50 \(5\.25–5\.75\) \|/);
  assert.match(second, /\| sqlite \| rejoin \| 1000 \| [^|]+\| [^|]+\| — \|/);
});

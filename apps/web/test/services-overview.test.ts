import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import { aggregatePairs, type EdgeRecord } from "../shared/edge-stats.ts";
import { buildLiveGraph } from "../shared/graph-model.ts";
import { inboundRpsTrends, sparklinePoints, trendBins } from "../shared/rps-trend.ts";
import { buildServiceRows, nextSort, type ServiceAgents, type ServiceRow, sortServiceRows, syncSummary } from "../shared/services-overview.ts";

function rec(p: Partial<EdgeRecord> & { latencies?: number[] }): EdgeRecord {
  const latency = emptyHistogram();
  for (const v of p.latencies ?? []) observe(latency, v);
  return {
    source: "web",
    sourceVersion: "v1",
    destination: "catalog",
    destinationVersion: "v1",
    statusClass: "2xx",
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
    mtls: 0,
    requests: p.latencies?.length ?? 0,
    ...p,
    latency,
  };
}

const agent = (syncState: string, connected = true) => ({ connected, syncState });

describe("rps trend", () => {
  test("bins end at toSec, sum every edge into its destination, and divide by the step", () => {
    const r = { fromSec: 101, toSec: 130, stepSeconds: 10 };
    assert.equal(trendBins(r), 3);
    const trends = inboundRpsTrends(
      [
        { sec: 100, edges: [rec({ requests: 999 })] }, // before the range: ignored
        { sec: 101, edges: [rec({ requests: 10 }), rec({ source: "cart", requests: 10, statusClass: "5xx", errors: 10 })] },
        { sec: 125, edges: [rec({ requests: 5 }), rec({ destination: "payments", requests: 40 })] },
        { sec: 130, edges: [rec({ requests: 15 })] },
        { sec: 131, edges: [rec({ requests: 999 })] }, // after: ignored
      ],
      r,
    );
    assert.deepEqual(trends.get("catalog"), [2, 0, 2]);
    assert.deepEqual(trends.get("payments"), [0, 0, 4]);
    assert.equal(trends.has("web"), false, "a service with no inbound calls has no series of its own");
  });

  test("a range that is not a multiple of the step starts with a partial bin, the newest stays whole", () => {
    const r = { fromSec: 5, toSec: 20, stepSeconds: 10 };
    assert.equal(trendBins(r), 2);
    assert.deepEqual(inboundRpsTrends([{ sec: 11, edges: [rec({ requests: 30 })] }], r).get("catalog"), [0, 3]);
  });

  test("sparkline points span the box: the largest value at the top, zero at the bottom", () => {
    assert.equal(sparklinePoints([], 60, 16), "");
    assert.equal(sparklinePoints([0, 5, 10], 60, 16), "0,15 30,8 60,1");
    assert.equal(sparklinePoints([0, 0], 60, 16), "0,15 60,15", "all idle: a flat line at the bottom");
  });
});

describe("services overview rows", () => {
  test("sync state is the worst among connected agents; disconnected agents do not count", () => {
    assert.deepEqual(syncSummary([agent("SYNCED"), agent("SYNCED")]), { state: "SYNCED", synced: 2, stale: 0, nacked: 0 });
    assert.deepEqual(syncSummary([agent("SYNCED"), agent("UNKNOWN")]), { state: "STALE", synced: 1, stale: 1, nacked: 0 });
    assert.deepEqual(syncSummary([agent("STALE"), agent("NACKED")]), { state: "NACKED", synced: 0, stale: 1, nacked: 1 });
    assert.deepEqual(syncSummary([agent("NACKED", false)]), { state: "NONE", synced: 0, stale: 0, nacked: 0 });
  });

  test("live inbound stats, mTLS mode (own or inherited, observed share) and trend per registered service", () => {
    const services: ServiceAgents[] = [
      { name: "catalog", versions: ["v1"], agents: [agent("SYNCED"), agent("STALE", false)] },
      { name: "payments", versions: ["v1", "v2"], agents: [agent("NACKED")] },
      { name: "web", versions: ["v1"], agents: [agent("SYNCED")] },
    ];
    const fast = Array.from({ length: 100 }, () => 2);
    const pairs = aggregatePairs([
      {
        sec: 1,
        edges: [
          rec({ latencies: fast, mtls: 100 }),
          rec({ destination: "payments", statusClass: "5xx", errors: 10, requests: 10, latencies: Array.from({ length: 10 }, () => 300) }),
          rec({ destination: "payments", latencies: Array.from({ length: 90 }, () => 4) }),
        ],
      },
    ]);
    const graph = buildLiveGraph({
      ts: 10_000,
      windowSeconds: 10,
      services: services.map((s) => ({ name: s.name, versions: s.versions.map((version) => ({ version, instances: 1, connected: 1 })) })),
      pairs,
    });
    const rows = buildServiceRows({
      services,
      mtlsModes: new Map([["payments", "STRICT" as const]]),
      meshDefault: "PERMISSIVE",
      graph,
      trends: new Map([["catalog", [1, 2, 3]]]),
      trendBins: 3,
    });
    const byName = new Map(rows.map((r) => [r.name, r]));
    const catalog = byName.get("catalog")!;
    assert.equal(catalog.rps, 10);
    assert.equal(catalog.errorPct, 0);
    assert.equal(catalog.health, "healthy");
    assert.deepEqual(catalog.mtls, { mode: "PERMISSIVE", inherited: true, observedPct: 100 });
    assert.equal(catalog.instances, 2);
    assert.equal(catalog.connected, 1);
    assert.equal(catalog.sync.state, "SYNCED");
    assert.deepEqual(catalog.trend, [1, 2, 3]);

    const payments = byName.get("payments")!;
    assert.equal(payments.rps, 10);
    assert.equal(payments.errorPct, 10);
    assert.equal(payments.health, "critical");
    assert.ok(payments.p99Ms >= 250, `p99 from the slow failures, got ${payments.p99Ms}`);
    assert.deepEqual(payments.mtls, { mode: "STRICT", inherited: false, observedPct: 0 });
    assert.equal(payments.sync.state, "NACKED");
    assert.deepEqual(payments.versions, ["v1", "v2"]);

    const web = byName.get("web")!;
    assert.equal(web.rps, 0);
    assert.equal(web.health, "idle");
    assert.equal(web.mtls.observedPct, null, "no traffic: nothing observed");
    assert.deepEqual(web.trend, [0, 0, 0]);
  });
});

describe("services overview sort", () => {
  const row = (name: string, p: Partial<ServiceRow>): ServiceRow => ({
    name,
    versions: ["v1"],
    instances: 1,
    connected: 1,
    health: "healthy",
    rps: 0,
    errorPct: 0,
    p99Ms: 0,
    mtls: { mode: "PERMISSIVE", inherited: true, observedPct: null },
    sync: { state: "SYNCED", synced: 1, stale: 0, nacked: 0 },
    trend: [],
    ...p,
  });
  const rows = [
    row("cart", { rps: 5, errorPct: 2, p99Ms: 30, sync: { state: "STALE", synced: 0, stale: 1, nacked: 0 } }),
    row("web", { rps: 50, p99Ms: 10, mtls: { mode: "STRICT", inherited: false, observedPct: 100 } }),
    row("auth", { rps: 5, p99Ms: 80, versions: ["v1", "v2"], health: "critical" }),
  ];
  const names = (r: ServiceRow[]) => r.map((x) => x.name);

  test("by each column, both directions, ties by name", () => {
    assert.deepEqual(names(sortServiceRows(rows, "name", "asc")), ["auth", "cart", "web"]);
    assert.deepEqual(names(sortServiceRows(rows, "name", "desc")), ["web", "cart", "auth"]);
    assert.deepEqual(names(sortServiceRows(rows, "rps", "desc")), ["web", "auth", "cart"], "5 = 5: auth before cart");
    assert.deepEqual(names(sortServiceRows(rows, "rps", "asc")), ["auth", "cart", "web"]);
    assert.deepEqual(names(sortServiceRows(rows, "p99Ms", "desc")), ["auth", "cart", "web"]);
    assert.deepEqual(names(sortServiceRows(rows, "errorPct", "desc")), ["cart", "auth", "web"]);
    assert.deepEqual(names(sortServiceRows(rows, "mtls", "desc")), ["web", "auth", "cart"]);
    assert.deepEqual(names(sortServiceRows(rows, "sync", "desc")), ["cart", "auth", "web"]);
    assert.deepEqual(names(sortServiceRows(rows, "versions", "desc")), ["auth", "cart", "web"]);
    assert.deepEqual(names(sortServiceRows(rows, "health", "desc")), ["auth", "cart", "web"]);
    assert.deepEqual(names(rows), ["cart", "web", "auth"], "the input is not mutated");
  });

  test("a header click flips its column, a new column starts descending (names ascending)", () => {
    assert.deepEqual(nextSort({ key: "name", dir: "asc" }, "name"), { key: "name", dir: "desc" });
    assert.deepEqual(nextSort({ key: "name", dir: "asc" }, "rps"), { key: "rps", dir: "desc" });
    assert.deepEqual(nextSort({ key: "rps", dir: "desc" }, "rps"), { key: "rps", dir: "asc" });
    assert.deepEqual(nextSort({ key: "rps", dir: "desc" }, "name"), { key: "name", dir: "asc" });
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import { aggregatePairs, type EdgeRecord, statsOf, sumPairs, windowRange } from "../shared/edge-stats.ts";
import { buildLiveGraph, edgeLabel, formatMs, formatPct, formatRps } from "../shared/graph-model.ts";
import { HEALTH_THRESHOLDS, healthOf } from "../shared/health.ts";

function rec(p: Partial<EdgeRecord> & { latencies?: number[] }): EdgeRecord {
  const latency = emptyHistogram();
  for (const v of p.latencies ?? []) observe(latency, v);
  const requests = p.requests ?? p.latencies?.length ?? 0;
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
    ...p,
    requests,
    latency,
  };
}

describe("health thresholds", () => {
  test("idle without traffic, then healthy < 1 % < warning < 5 % <= critical", () => {
    assert.equal(healthOf(0, 0), "idle");
    assert.equal(healthOf(0, 50), "idle");
    assert.equal(healthOf(10, 0), "healthy");
    assert.equal(healthOf(10, 0.99), "healthy");
    assert.equal(healthOf(10, HEALTH_THRESHOLDS.warningPct), "warning");
    assert.equal(healthOf(10, 4.99), "warning");
    assert.equal(healthOf(10, HEALTH_THRESHOLDS.criticalPct), "critical");
    assert.equal(healthOf(10, 100), "critical");
  });
});

describe("rps / percentiles from 1-second windows", () => {
  test("pairs aggregate over seconds and status classes; rates divide by the window", () => {
    const buckets = [
      { sec: 100, edges: [rec({ latencies: Array(40).fill(1) }), rec({ statusClass: "5xx", errors: 10, latencies: Array(10).fill(30) })] },
      { sec: 101, edges: [rec({ latencies: Array(50).fill(1), mtls: 50 })] },
      { sec: 101, edges: [rec({ destination: "cart", latencies: [3] })] },
    ];
    const pairs = aggregatePairs(buckets);
    assert.deepEqual(
      pairs.map((p) => `${p.source}->${p.destination}`),
      ["web->cart", "web->catalog"],
    );
    const catalog = pairs[1];
    assert.equal(catalog.requests, 100);
    assert.equal(catalog.errors, 10);
    assert.deepEqual(catalog.byStatus, { "2xx": 90, "5xx": 10 });
    const s = statsOf(catalog, 10);
    assert.equal(s.rps, 10);
    assert.equal(s.errorPct, 10);
    assert.equal(s.errorRate, 0.1);
    assert.equal(s.mtlsPct, 50);
    assert.equal(s.mtlsShare, 0.5);
    // 90 samples at 1 ms (bucket 0.75..1), 10 at 30 ms (bucket 25..30): p50 in the first, p99 in the second.
    assert.ok(s.p50Ms > 0.75 && s.p50Ms <= 1, `p50 ${s.p50Ms}`);
    assert.ok(s.p99Ms > 25 && s.p99Ms <= 30, `p99 ${s.p99Ms}`);
  });

  test("merging is exact: percentiles of merged windows equal those of all observations", () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 7.3) % 120);
    const whole = aggregatePairs([{ sec: 1, edges: [rec({ latencies: values })] }])[0];
    const split = aggregatePairs([
      { sec: 1, edges: [rec({ latencies: values.slice(0, 123) })] },
      { sec: 2, edges: [rec({ latencies: values.slice(123, 400) })] },
      { sec: 3, edges: [rec({ latencies: values.slice(400) })] },
    ])[0];
    assert.deepEqual(split.latency.counts, whole.latency.counts);
    assert.equal(statsOf(split, 3).p99Ms, statsOf(whole, 3).p99Ms);
  });

  test("empty totals are zero, not NaN", () => {
    const s = statsOf(sumPairs([]), 10);
    assert.deepEqual(s, { rps: 0, p50Ms: 0, p99Ms: 0, errorRate: 0, errorPct: 0, mtlsShare: 0, mtlsPct: 0, requests: 0, errors: 0 });
  });

  test("the window is the last N settled seconds (the newest second may still be arriving)", () => {
    assert.deepEqual(windowRange(1_000_500, 10), { fromSec: 989, toSec: 998 });
    assert.deepEqual(windowRange(1_000_000, 1), { fromSec: 998, toSec: 998 });
  });
});

describe("graph model", () => {
  const services = [
    {
      name: "catalog",
      versions: [
        { version: "v1", instances: 2, connected: 2 },
        { version: "v2", instances: 1, connected: 0 },
      ],
    },
    { name: "web", versions: [{ version: "v1", instances: 1, connected: 1 }] },
    { name: "idle-svc", versions: [] },
  ];

  test("services become nodes with their versions as children; registered idle services included", () => {
    const g = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs: [] });
    assert.equal(g.type, "graph");
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      ["s:catalog", "s:idle-svc", "s:web", "v:catalog@v1", "v:catalog@v2", "v:web@v1"],
    );
    const v2 = g.nodes.find((n) => n.id === "v:catalog@v2")!;
    assert.equal(v2.parent, "s:catalog");
    assert.equal(v2.kind, "version");
    assert.equal(v2.connected, 0);
    const catalog = g.nodes.find((n) => n.id === "s:catalog")!;
    assert.equal(catalog.instances, 3);
    assert.equal(catalog.connected, 2);
    assert.ok(g.nodes.every((n) => n.health === "idle"));
    assert.deepEqual(g.edges, []);
  });

  test("an edge with open tunnels (WebSockets) stays on the graph with its connection count, new calls or not", () => {
    const pairs = aggregatePairs([
      { sec: 1, edges: [rec({ statusClass: "1xx", latencies: [3], connectionsOpened: 2, connectionsOpen: 2 })] },
      { sec: 2, edges: [rec({ statusClass: "1xx", connectionsOpened: 0, connectionsOpen: 1, connectionsClosed: 1, connectionMs: 900 })] },
    ]);
    assert.equal(pairs[0].connectionsOpened, 2);
    assert.equal(pairs[0].connectionsClosed, 1);
    const g = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs });
    const e = g.edges.find((x) => x.id === "e:web@v1->catalog@v1")!;
    assert.equal(e.connections, 2, "the largest count reported in the window");
    assert.match(e.label, / · 2 open$/);
    const idlePairs = aggregatePairs([{ sec: 2, edges: [rec({ statusClass: "1xx", connectionsOpen: 1 })] }]);
    const idle = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs: idlePairs });
    assert.equal(idle.edges.length, 1, "no new call, one open tunnel: still drawn");
  });

  test("gRPC edges: status codes add up over seconds and show on the edge with their names; failures count as errors", () => {
    const pairs = aggregatePairs([
      { sec: 1, edges: [rec({ requests: 10, errors: 2, latencies: [1], grpcStatus: { "0": 8, "14": 2 } })] },
      { sec: 2, edges: [rec({ requests: 5, errors: 1, latencies: [1], grpcStatus: { "0": 4, "4": 1 } })] },
    ]);
    assert.deepEqual(pairs[0].grpcStatus, { "0": 12, "14": 2, "4": 1 });
    const g = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs });
    const e = g.edges.find((x) => x.id === "e:web@v1->catalog@v1")!;
    assert.deepEqual(e.grpcStatus, { "0": 12, "14": 2, "4": 1 });
    assert.equal(e.errors, 3);
    assert.match(e.label, /\ngRPC OK 12 · UNAVAILABLE 2 · DEADLINE_EXCEEDED 1$/);
    // An HTTP-only edge carries no gRPC field.
    const http = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs: aggregatePairs([{ sec: 1, edges: [rec({ latencies: [1] })] }]) });
    assert.equal(http.edges[0].grpcStatus, undefined);
  });

  test("mirrored copies: an edge of copies only is a mirror edge (own label, no split share); mixed edges count them apart", () => {
    const pairs = aggregatePairs([
      // web → catalog v1: 100 answered calls; → v2: 50 mirrored copies (5 of them failed) in two records.
      { sec: 1, edges: [rec({ latencies: Array(100).fill(2) }), rec({ destinationVersion: "v2", mirrored: 45, latencies: Array(45).fill(4) })] },
      { sec: 2, edges: [rec({ destinationVersion: "v2", statusClass: "5xx", errors: 5, mirrored: 5, latencies: Array(5).fill(4) })] },
    ]);
    const g = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs });
    const v1 = g.edges.find((x) => x.id === "e:web@v1->catalog@v1")!;
    const v2 = g.edges.find((x) => x.id === "e:web@v1->catalog@v2")!;
    assert.deepEqual([v1.mirror, v1.mirrored, v1.sharePct], [false, 0, 100], "the answered calls are the whole split");
    assert.deepEqual([v2.mirror, v2.mirrored, v2.requests, v2.sharePct], [true, 50, 50, 0]);
    assert.match(v2.label, /^mirror · 5\.0 rps · /);
    assert.equal(v2.errorPct, 10, "failed copies count on the mirror edge");
    assert.doesNotMatch(v1.label, /mirror/);
    // Copies and answered calls on one edge (v2 takes 10% of the split and is mirrored too): not a mirror edge.
    const mixed = buildLiveGraph({
      ts: 5,
      windowSeconds: 10,
      services,
      pairs: aggregatePairs([
        {
          sec: 1,
          edges: [
            rec({ destinationVersion: "v2", latencies: Array(10).fill(1) }),
            rec({ destinationVersion: "v2", mirrored: 30, latencies: Array(30).fill(1) }),
          ],
        },
      ]),
    }).edges[0];
    assert.deepEqual([mixed.mirror, mixed.mirrored, mixed.requests], [false, 30, 40]);
    assert.match(mixed.label, / · 75% mirrored$/);
    assert.equal(edgeLabel({ rps: 1, p99Ms: 1, errorPct: 0, mtlsPct: 100 }, 100, 0, 100), "🔒 mirror · 1.0 rps · 1.0 ms · 0%");
  });

  test("edges per service@version pair with rps, p99, error %, labels; health from inbound error rate", () => {
    const pairs = aggregatePairs([
      {
        sec: 1,
        edges: [
          rec({ latencies: Array(97).fill(2), mtls: 97 }),
          rec({ statusClass: "5xx", errors: 3, latencies: Array(3).fill(2), mtls: 3 }),
          rec({ destinationVersion: "v2", latencies: Array(50).fill(4) }),
          rec({ source: "ingress", sourceVersion: "unknown", destination: "web", latencies: Array(20).fill(8) }),
          rec({ destination: "payments", destinationVersion: "unknown", statusClass: "5xx", errors: 5, latencies: Array(5).fill(0.1) }),
        ],
      },
    ]);
    const g = buildLiveGraph({ ts: 5, windowSeconds: 10, services, pairs });
    const e1 = g.edges.find((e) => e.id === "e:web@v1->catalog@v1")!;
    assert.equal(e1.source, "web");
    assert.equal(e1.destination, "catalog");
    assert.equal(e1.sourceNode, "v:web@v1");
    assert.equal(e1.targetNode, "v:catalog@v1");
    assert.equal(e1.rps, 10);
    assert.equal(e1.errorPct, 3);
    assert.equal(e1.health, "warning");
    // web@v1's calls to catalog went 100 to v1 and 50 to v2: each version edge carries its share (the live split).
    assert.equal(e1.label, "🔒 10 rps · 2.0 ms · 3.0% · 67% split");
    assert.equal(e1.sharePct, 66.7);
    const e2 = g.edges.find((e) => e.id === "e:web@v1->catalog@v2")!;
    assert.equal(e2.health, "healthy");
    assert.equal(e2.label, "5.0 rps · 4.0 ms · 0% · 33% split");
    assert.equal(e2.sharePct, 33.3);
    assert.ok(Math.abs(e1.share + e2.share - 1) < 1e-9);
    // Ingress and unknown versions attach to the service node.
    const ingress = g.edges.find((e) => e.source === "ingress")!;
    assert.equal(ingress.sharePct, 100, "a single destination version: the whole share, no split suffix");
    assert.doesNotMatch(ingress.label, /split/);
    assert.equal(ingress.sourceNode, "s:ingress");
    assert.equal(ingress.targetNode, "v:web@v1");
    assert.equal(g.nodes.find((n) => n.id === "s:ingress")!.kind, "ingress");
    const failing = g.edges.find((e) => e.destination === "payments")!;
    assert.equal(failing.targetNode, "s:payments");
    assert.equal(failing.health, "critical");
    // Telemetry-only services appear (without a phantom "unknown" version).
    assert.ok(g.nodes.some((n) => n.id === "s:payments"));
    assert.ok(!g.nodes.some((n) => n.id === "v:payments@unknown"));
    // Service health from all its inbound traffic: 3 errors of 150 = 2 % -> warning; version nodes separately.
    assert.equal(g.nodes.find((n) => n.id === "s:catalog")!.health, "warning");
    assert.equal(g.nodes.find((n) => n.id === "v:catalog@v1")!.health, "warning");
    assert.equal(g.nodes.find((n) => n.id === "v:catalog@v2")!.health, "healthy");
    assert.equal(g.nodes.find((n) => n.id === "s:catalog")!.rps, 15);
    assert.equal(g.nodes.find((n) => n.id === "s:idle-svc")!.health, "idle");
  });

  test("formatting", () => {
    assert.equal(formatRps(0), "0");
    assert.equal(formatRps(2.345), "2.3");
    assert.equal(formatRps(123.4), "123");
    assert.equal(formatMs(0.42), "0.4 ms");
    assert.equal(formatMs(42.4), "42 ms");
    assert.equal(formatMs(1500), "1.5 s");
    assert.equal(formatPct(0), "0%");
    assert.equal(formatPct(0.5), "0.5%");
    assert.equal(formatPct(12.3), "12%");
    assert.equal(edgeLabel({ rps: 1, p99Ms: 1, errorPct: 0, mtlsPct: 0 }), "1.0 rps · 1.0 ms · 0%");
    assert.equal(edgeLabel({ rps: 1, p99Ms: 1, errorPct: 0, mtlsPct: 0 }, 100, 3), "1.0 rps · 1.0 ms · 0% · 3 open");
    assert.equal(
      edgeLabel({ rps: 1, p99Ms: 1, errorPct: 0, mtlsPct: 0 }, 100, 0, 0, { "0": 120, "14": 3, "4": 3 }),
      "1.0 rps · 1.0 ms · 0%\ngRPC OK 120 · DEADLINE_EXCEEDED 3 · UNAVAILABLE 3",
    );
  });
});

describe("traffic split helpers", async () => {
  const { rebalance, splitFor } = await import("../shared/split.ts");
  const { policyDiff, securityDiff } = await import("../shared/policy-diff.ts");

  test("moving one slider rebalances the others; weights always sum to 100", () => {
    const two = rebalance(
      [
        { version: "v1", weight: 90 },
        { version: "v2", weight: 10 },
      ],
      1,
      25,
    );
    assert.deepEqual(two, [
      { version: "v1", weight: 75 },
      { version: "v2", weight: 25 },
    ]);
    const three = rebalance(
      [
        { version: "a", weight: 50 },
        { version: "b", weight: 30 },
        { version: "c", weight: 20 },
      ],
      0,
      10,
    );
    assert.deepEqual(
      three.map((e) => e.weight),
      [10, 54, 36],
    );
    for (let v = 0; v <= 100; v += 7) {
      const r = rebalance(
        [
          { version: "a", weight: 33 },
          { version: "b", weight: 33 },
          { version: "c", weight: 34 },
        ],
        2,
        v,
      );
      assert.equal(
        r.reduce((s, e) => s + e.weight, 0),
        100,
      );
      assert.equal(r[2].weight, v);
    }
    assert.deepEqual(
      rebalance(
        [
          { version: "a", weight: 100 },
          { version: "b", weight: 0 },
          { version: "c", weight: 0 },
        ],
        0,
        40,
      ).map((e) => e.weight),
      [40, 30, 30],
    );
    assert.deepEqual(splitFor(["v1", "v2"], [{ version: "v1", weight: 100 }]), [
      { version: "v1", weight: 100 },
      { version: "v2", weight: 0 },
    ]);
  });

  test("policy diff: one readable line per change, splits by version", () => {
    assert.deepEqual(
      policyDiff(
        {
          split: [
            { version: "v1", weight: 90 },
            { version: "v2", weight: 10 },
          ],
          retries: { attempts: 2 },
        },
        {
          split: [
            { version: "v1", weight: 75 },
            { version: "v2", weight: 25 },
          ],
          timeoutMs: 500,
        },
      ),
      ["- retries.attempts: 2", "~ split v1: 90% → 75%", "~ split v2: 10% → 25%", "+ timeoutMs: 500"],
    );
  });

  test("security diff: mTLS mode and allow rules read as one line each", () => {
    assert.deepEqual(securityDiff({ mtls: "DISABLE" }, { mtls: "STRICT" }), ["~ mtls: DISABLE → STRICT"]);
    assert.deepEqual(securityDiff({ mtls: "STRICT" }, { mtls: "STRICT" }), []);
    const web = { principals: ["spiffe://trellis.local/service/web"], methods: ["GET"], paths: ["/charge"] };
    const cart = { principals: ["spiffe://trellis.local/service/cart"], methods: [], paths: [] };
    assert.deepEqual(securityDiff({ authorization: [] }, { authorization: [web] }), [
      "+ allow spiffe://trellis.local/service/web GET /charge",
      "~ authorization: every caller allowed → only the listed callers",
    ]);
    assert.deepEqual(securityDiff({ authorization: [cart, web] }, { authorization: [web] }), ["- allow spiffe://trellis.local/service/cart"]);
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LiveEdge, LiveGraph, LiveNode } from "../shared/live-types.ts";
import { layeredLayout } from "../src/lib/graph-layout.ts";

const zero = { rps: 0, p50Ms: 0, p99Ms: 0, errorRate: 0, errorPct: 0, mtlsShare: 0, mtlsPct: 0, requests: 0, errors: 0 };

function g(services: Record<string, string[]>, edges: [string, string][]): LiveGraph {
  const nodes: LiveNode[] = [];
  for (const [name, versions] of Object.entries(services)) {
    nodes.push({
      id: `s:${name}`,
      kind: name === "ingress" ? "ingress" : "service",
      label: name,
      service: name,
      version: null,
      parent: null,
      health: "idle",
      instances: 0,
      connected: 0,
      ...zero,
    });
    for (const v of versions)
      nodes.push({
        id: `v:${name}@${v}`,
        kind: "version",
        label: v,
        service: name,
        version: v,
        parent: `s:${name}`,
        health: "idle",
        instances: 0,
        connected: 0,
        ...zero,
      });
  }
  const es: LiveEdge[] = edges.map(([a, b]) => ({
    id: `e:${a}->${b}`,
    source: a.split("@")[0],
    sourceVersion: a.split("@")[1] ?? "unknown",
    destination: b.split("@")[0],
    destinationVersion: b.split("@")[1] ?? "unknown",
    sourceNode: a.includes("@") ? `v:${a}` : `s:${a}`,
    targetNode: b.includes("@") ? `v:${b}` : `s:${b}`,
    health: "healthy",
    label: "",
    share: 1,
    sharePct: 100,
    connections: 0,
    mirrored: 0,
    mirror: false,
    ...zero,
  }));
  return { type: "graph", ts: 0, windowSeconds: 10, nodes, edges: es };
}

describe("layered layout", () => {
  test("callers left of callees; versions stacked inside their service; deterministic", () => {
    const graph = g({ ingress: [], web: ["v1"], catalog: ["v1", "v2"], reviews: ["v1"] }, [
      ["ingress", "web@v1"],
      ["web@v1", "catalog@v1"],
      ["web@v1", "catalog@v2"],
      ["catalog@v1", "reviews@v1"],
    ]);
    const p = layeredLayout(graph);
    assert.ok(p["s:ingress"].x < p["v:web@v1"].x);
    assert.ok(p["v:web@v1"].x < p["v:catalog@v1"].x);
    assert.ok(p["v:catalog@v1"].x < p["v:reviews@v1"].x);
    assert.equal(p["v:catalog@v1"].x, p["v:catalog@v2"].x);
    assert.ok(p["v:catalog@v1"].y < p["v:catalog@v2"].y);
    assert.ok(!("s:catalog" in p), "compound boxes follow their children");
    assert.deepEqual(layeredLayout(graph), p);
  });

  test("cycles do not loop forever and still give every node a position", () => {
    const graph = g({ a: ["v1"], b: ["v1"], c: ["v1"] }, [
      ["a@v1", "b@v1"],
      ["b@v1", "c@v1"],
      ["c@v1", "a@v1"],
    ]);
    const p = layeredLayout(graph);
    assert.equal(Object.keys(p).length, 3);
    assert.ok(p["v:a@v1"].x < p["v:b@v1"].x && p["v:b@v1"].x < p["v:c@v1"].x);
  });

  test("no traffic: services in a grid without overlaps", () => {
    const graph = g({ a: ["v1"], b: ["v1", "v2"], c: ["v1"], d: [] }, []);
    const p = layeredLayout(graph);
    const pts = Object.values(p).map((q) => `${q.x},${q.y}`);
    assert.equal(new Set(pts).size, pts.length);
    assert.equal(Object.keys(p).length, 5);
  });
});

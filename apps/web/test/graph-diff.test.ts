import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import { aggregatePairs } from "../shared/edge-stats.ts";
import { buildLiveGraph } from "../shared/graph-model.ts";
import type { LiveGraph } from "../shared/live-types.ts";
import { diffGraph, toElements } from "../src/lib/graph-diff.ts";

function graph(edges: { from: string; to: string; n: number; errors?: number }[], services = ["a", "b", "c"]): LiveGraph {
  const pairs = aggregatePairs([
    {
      sec: 1,
      edges: edges.map((e) => {
        const latency = emptyHistogram();
        for (let i = 0; i < e.n; i++) observe(latency, 1);
        return {
          source: e.from,
          sourceVersion: "v1",
          destination: e.to,
          destinationVersion: "v1",
          statusClass: "2xx",
          requests: e.n,
          errors: e.errors ?? 0,
          bytesIn: 0,
          bytesOut: 0,
          mtls: 0,
          latency,
        };
      }),
    },
  ]);
  return buildLiveGraph({
    ts: 1,
    windowSeconds: 1,
    services: services.map((name) => ({ name, versions: [{ version: "v1", instances: 1, connected: 1 }] })),
    pairs,
  });
}

describe("graph diff -> cytoscape element changes", () => {
  test("from nothing: everything is added, parents before children before edges", () => {
    const g = graph([{ from: "a", to: "b", n: 5 }]);
    const d = diffGraph(null, g);
    assert.equal(d.topologyChanged, true);
    assert.deepEqual(d.remove, []);
    assert.deepEqual(d.update, []);
    assert.deepEqual(
      d.add.map((e) => e.data.id),
      ["s:a", "s:b", "s:c", "v:a@v1", "v:b@v1", "v:c@v1", "e:a@v1->b@v1"],
    );
    const child = d.add.find((e) => e.data.id === "v:a@v1")!;
    assert.equal(child.data.parent, "s:a");
    const edge = d.add.find((e) => e.group === "edges")!;
    assert.equal(edge.data.source, "v:a@v1");
    assert.equal(edge.data.target, "v:b@v1");
    assert.equal(edge.data.rps, 5);
  });

  test("same topology, new numbers: only changed data fields, no topology change", () => {
    const d = diffGraph(graph([{ from: "a", to: "b", n: 5 }]), graph([{ from: "a", to: "b", n: 7, errors: 7 }]));
    assert.equal(d.topologyChanged, false);
    assert.deepEqual(d.add, []);
    assert.deepEqual(d.remove, []);
    const edge = d.update.find((u) => u.id === "e:a@v1->b@v1")!;
    assert.equal(edge.data.rps, 7);
    assert.equal(edge.data.health, "critical");
    assert.ok(!("source" in edge.data), "structural fields are not updated as data");
    assert.ok(d.update.some((u) => u.id === "v:b@v1" && u.data.health === "critical"));
    assert.ok(!d.update.some((u) => u.id === "s:c"), "unchanged elements are left alone");
  });

  test("identical graphs: no changes at all", () => {
    const g = graph([{ from: "a", to: "b", n: 5 }]);
    assert.deepEqual(diffGraph(g, graph([{ from: "a", to: "b", n: 5 }])), { add: [], remove: [], update: [], topologyChanged: false });
  });

  test("an edge appears and another disappears: topology changed; removals list edges before nodes", () => {
    const before = graph([{ from: "a", to: "b", n: 5 }]);
    const after = graph([{ from: "b", to: "c", n: 2 }], ["b", "c"]);
    const d = diffGraph(before, after);
    assert.equal(d.topologyChanged, true);
    assert.deepEqual(d.remove, ["e:a@v1->b@v1", "s:a", "v:a@v1"]);
    assert.deepEqual(
      d.add.map((e) => e.data.id),
      ["e:b@v1->c@v1"],
    );
  });

  test("toElements keeps every node and edge", () => {
    const g = graph([
      { from: "a", to: "b", n: 5 },
      { from: "a", to: "c", n: 1 },
    ]);
    assert.equal(toElements(g).length, g.nodes.length + g.edges.length);
  });
});

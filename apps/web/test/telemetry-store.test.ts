import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type EdgeStats, emptyHistogram, histogramCount, observe } from "@trellis/protocol";
import { TelemetryStore } from "../server/telemetry-store.ts";
import { aggregatePairs } from "../shared/edge-stats.ts";

function edge(requests: number, statusClass: EdgeStats["statusClass"] = "2xx"): EdgeStats {
  const latency = emptyHistogram();
  for (let i = 0; i < requests; i++) observe(latency, 5);
  return {
    source: "web",
    sourceVersion: "v1",
    destination: "catalog",
    destinationVersion: "v1",
    statusClass,
    requests,
    errors: statusClass === "5xx" ? requests : 0,
    bytesIn: requests,
    bytesOut: 2 * requests,
    mtls: 0,
    latency,
  };
}

describe("telemetry store", () => {
  const now = 1_800_000_000_500;
  const sec = Math.floor(now / 1000);

  test("windows from several agents for the same second merge exactly per edge key", () => {
    const store = new TelemetryStore();
    store.ingest({ windowStart: (sec - 1) * 1000, edges: [edge(10), edge(2, "5xx")] }, now);
    store.ingest({ windowStart: (sec - 1) * 1000, edges: [edge(5)] }, now);
    const buckets = store.range(sec - 1, sec - 1);
    assert.equal(buckets.length, 1);
    const recs = [...buckets[0].edges];
    assert.equal(recs.length, 2, "one record per status class");
    const ok = recs.find((r) => r.statusClass === "2xx")!;
    assert.equal(ok.requests, 15);
    assert.equal(ok.bytesOut, 30);
    assert.equal(histogramCount(ok.latency), 15);
    const [pair] = aggregatePairs(buckets);
    assert.equal(pair.requests, 17);
    assert.equal(pair.errors, 2);
  });

  test("ingest does not alias the frame's histograms", () => {
    const store = new TelemetryStore();
    const e = edge(3);
    store.ingest({ windowStart: (sec - 1) * 1000, edges: [e] }, now);
    store.ingest({ windowStart: (sec - 1) * 1000, edges: [e] }, now);
    assert.equal(histogramCount(e.latency), 3);
  });

  test("range returns only the asked seconds, ascending", () => {
    const store = new TelemetryStore();
    for (let s = sec - 20; s < sec; s++) store.ingest({ windowStart: s * 1000, edges: [edge(1)] }, now);
    const r = store.range(sec - 10, sec - 1);
    assert.deepEqual(
      r.map((b) => b.sec),
      Array.from({ length: 10 }, (_, i) => sec - 10 + i),
    );
  });

  test("windows older than the retention are dropped and old buckets pruned", () => {
    const store = new TelemetryStore({ retentionSeconds: 60, maxSkewMs: 3_600_000 });
    assert.equal(store.ingest({ windowStart: (sec - 61) * 1000, edges: [edge(1)] }, now), 0);
    store.ingest({ windowStart: (sec - 30) * 1000, edges: [edge(1)] }, now);
    assert.equal(store.bucketCount, 1);
    store.ingest({ windowStart: (sec + 40) * 1000, edges: [edge(1)] }, now + 40_000);
    assert.equal(store.bucketCount, 1, "the bucket from 70 s earlier is gone");
  });

  test("a window far off the console's clock lands in the previous console second", () => {
    const store = new TelemetryStore();
    store.ingest({ windowStart: 1000, edges: [edge(4)] }, now);
    assert.equal(store.range(sec - 1, sec - 1).length, 1);
    assert.equal(store.bucketSecond({ windowStart: now + 60_000 }, now), sec - 1);
  });

  test("seconds past the fine tier merge exactly into 10-second buckets; totals over any aligned range are unchanged", () => {
    const fine = 30;
    const store = new TelemetryStore({ retentionSeconds: 300, fineSeconds: fine });
    const start = sec - 200; // a multiple of 10 apart from `sec`'s alignment is irrelevant: compare aligned ranges
    const reference = new TelemetryStore({ retentionSeconds: 300, fineSeconds: 300 });
    for (let s = start; s < sec; s++) {
      const frame = { windowStart: s * 1000, edges: [edge(1 + (s % 7)), edge(s % 3, "5xx")] };
      store.ingest(frame, s * 1000 + 1500);
      reference.ingest(frame, s * 1000 + 1500);
    }
    store.prune(sec);
    const from = Math.ceil(start / 10) * 10;
    const to = Math.floor((sec - fine) / 10) * 10 - 1; // aligned span entirely in the coarse tier
    const coarse = store.range(from, to);
    assert.ok(coarse.length > 0 && coarse.every((b) => b.seconds === 10 && b.sec % 10 === 0), "old seconds are 10-second buckets");
    assert.deepEqual(aggregatePairs(coarse), aggregatePairs(reference.range(from, to)), "merging is exact");
    const recent = store.range(sec - 10, sec - 1);
    assert.deepEqual(
      recent.map((b) => b.seconds),
      Array(10).fill(1),
      "recent seconds keep 1-second resolution",
    );
    assert.ok(store.bucketCount < reference.bucketCount / 3, `${store.bucketCount} buckets vs ${reference.bucketCount}`);
    // Every second is counted once: the whole range sums the same in both stores.
    assert.deepEqual(aggregatePairs(store.range(start - 10, sec)), aggregatePairs(reference.range(start - 10, sec)));
  });

  test("records share interned strings and keep histograms compact", () => {
    const store = new TelemetryStore();
    store.ingest({ windowStart: (sec - 2) * 1000, edges: [edge(2)] }, now);
    store.ingest({ windowStart: (sec - 1) * 1000, edges: [edge(3)] }, now);
    const [a, b] = store.range(sec - 2, sec - 1).map((bucket) => [...bucket.edges][0]);
    assert.equal(a.latency.counts.length, b.latency.counts.length);
    assert.ok(a.latency.counts.length <= 11, "5 ms observations need no buckets past 5 ms");
    assert.equal(histogramCount(b.latency), 3);
    assert.equal(store.recordCount, 2);
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BUCKET_COUNT,
  bucketIndex,
  compactHistogram,
  emptyHistogram,
  histogramCount,
  LATENCY_BUCKETS_MS,
  mergeHistograms,
  mergeInto,
  observe,
  quantile,
} from "../src/index.ts";

test("bucket bounds are strictly increasing and fine below 10 ms", () => {
  for (let i = 1; i < LATENCY_BUCKETS_MS.length; i++) assert.ok(LATENCY_BUCKETS_MS[i] > LATENCY_BUCKETS_MS[i - 1]);
  assert.ok(LATENCY_BUCKETS_MS.filter((b) => b <= 10).length >= 12);
});

test("bucketIndex puts values on the bound into that bucket and overflow into the last", () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(0.1), 0);
  assert.equal(bucketIndex(0.11), 1);
  assert.equal(bucketIndex(10), LATENCY_BUCKETS_MS.indexOf(10));
  assert.equal(bucketIndex(1e9), BUCKET_COUNT - 1);
});

test("merging windows is exact: equal to observing everything in one histogram", () => {
  const values = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 997) / 10);
  const whole = emptyHistogram();
  const parts = [emptyHistogram(), emptyHistogram(), emptyHistogram()];
  values.forEach((v, i) => {
    observe(whole, v);
    observe(parts[i % 3], v);
  });
  const merged = mergeHistograms(parts.map(compactHistogram));
  assert.deepEqual(merged.counts, whole.counts);
  assert.ok(Math.abs(merged.sumMs - whole.sumMs) < 1e-6);
  assert.equal(histogramCount(merged), 5000);
});

test("quantiles interpolate inside the bucket and are monotonic", () => {
  const h = emptyHistogram();
  for (let i = 0; i < 90; i++) observe(h, 1.2); // bucket (1, 1.5]
  for (let i = 0; i < 10; i++) observe(h, 80); // bucket (75, 100]
  const p50 = quantile(h, 0.5);
  const p99 = quantile(h, 0.99);
  assert.ok(p50 > 1 && p50 <= 1.5, `p50 ${p50}`);
  assert.ok(p99 > 75 && p99 <= 100, `p99 ${p99}`);
  assert.ok(quantile(h, 0.9) <= quantile(h, 0.95));
  assert.equal(quantile(emptyHistogram(), 0.99), 0);
});

test("mergeInto extends a compacted histogram to full length", () => {
  const a = compactHistogram(emptyHistogram());
  assert.equal(a.counts.length, 0);
  const b = emptyHistogram();
  observe(b, 2000);
  mergeInto(a, b);
  assert.equal(a.counts.length, BUCKET_COUNT);
  assert.equal(histogramCount(a), 1);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cpuSecondsFromStat,
  Dispatcher,
  dueCount,
  intendedOffsetMs,
  latencyUs,
  medianMinMax,
  memFromStatus,
  percentile,
  summarize,
} from "../lib/stats.ts";

test("percentile is nearest-rank on sorted input", () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 0.5), 50);
  assert.equal(percentile(v, 0.9), 90);
  assert.equal(percentile(v, 0.99), 99);
  assert.equal(percentile(v, 1), 100);
  assert.equal(percentile([7], 0.99), 7);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const s = summarize([5, 1, 4, 2, 3]);
  assert.deepEqual([s.p50, s.max, s.count, s.mean], [3, 5, 5, 3]);
});

test("medianMinMax over repeats skips missing values", () => {
  assert.deepEqual(medianMinMax([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.deepEqual(medianMinMax([4, null, 1]), { median: 2.5, min: 1, max: 4, n: 2 });
  assert.equal(medianMinMax([]).median, null);
});

test("the open-loop schedule spreads requests evenly", () => {
  assert.equal(intendedOffsetMs(0, 1000), 0);
  assert.equal(intendedOffsetMs(10, 1000), 10);
  assert.equal(intendedOffsetMs(3, 4), 750);
  assert.equal(dueCount(-1, 1000, 50), 0);
  assert.equal(dueCount(0, 1000, 50), 1);
  assert.equal(dueCount(9.99, 1000, 50), 10);
  assert.equal(dueCount(1000, 1000, 50), 50);
});

test("coordinated omission: a stall is charged to every request queued behind it", () => {
  // One connection, 1,000 rps; the first response takes 10 ms, the rest are instant.
  const d = new Dispatcher<{ intended: number }>(1);
  const lat: number[] = [];
  const start = 0;
  let inflight: { intended: number } | null = null;
  let free = 0; // time the connection becomes free
  for (let i = 0; i < 10; i++) {
    const item = { intended: start + intendedOffsetMs(i, 1000) };
    const go = d.due(item);
    if (go) inflight = go[1];
  }
  // Replay completions: first done at 10 ms, then each queued one is sent and answered at once.
  free = 10;
  while (inflight) {
    lat.push(latencyUs(inflight.intended, free));
    const next = d.done(0);
    inflight = next ? next[1] : null;
  }
  assert.equal(lat.length, 10);
  assert.equal(lat[0], 10_000);
  // Request 9 was meant to go at 9 ms and completed at 10 ms: 1 ms, not the 0 ms a closed loop would report.
  assert.equal(lat[9], 1000);
  assert.equal(d.maxQueue, 9);
  assert.deepEqual(lat, [10000, 9000, 8000, 7000, 6000, 5000, 4000, 3000, 2000, 1000]);
});

test("the dispatcher spreads over idle connections first", () => {
  const d = new Dispatcher<object>(3);
  assert.deepEqual(
    [d.due({}), d.due({}), d.due({})].map((x) => x?.[0]),
    [0, 1, 2],
  );
  assert.equal(d.due({ q: 1 }), null);
  assert.deepEqual(d.done(1), [1, { q: 1 }]);
  assert.equal(d.done(1), null);
  assert.equal(d.due({})?.[0], 1);
});

test("/proc parsing: utime+stime and VmHWM", () => {
  const stat = "1234 (node (x)) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 2000";
  assert.equal(cpuSecondsFromStat(stat, 100), 3);
  assert.deepEqual(memFromStatus("Name:\tnode\nVmHWM:\t  102400 kB\nVmRSS:\t   51200 kB\n"), { hwmMb: 100, rssMb: 50 });
});

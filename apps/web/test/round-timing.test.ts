/** Push round timing: config changes after the short debounce; membership changes coalesced (quiet period, maximum). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type PendingRound, type RoundCause, scheduleAt } from "../server/control-plane/round-timing.ts";

const t = { debounceMs: 30, membershipQuietMs: 100, membershipMaxMs: 1000 };
const run = (events: [RoundCause, number][]): PendingRound | null =>
  events.reduce<PendingRound | null>((p, [cause, now]) => scheduleAt(p, cause, now, t), null);

test("a config change alone is pushed after the debounce", () => {
  assert.deepEqual(run([["change", 1000]]), { due: 1030, cause: "change", membershipSince: null });
  // a second change within the debounce rides the same round
  assert.equal(
    run([
      ["change", 1000],
      ["change", 1010],
    ])?.due,
    1030,
  );
});

test("membership changes wait for a quiet period, pushed back by each new one up to the maximum", () => {
  assert.equal(run([["membership", 1000]])?.due, 1100);
  assert.equal(
    run([
      ["membership", 1000],
      ["membership", 1050],
    ])?.due,
    1150,
  );
  // a steady stream of joins every 50 ms: never quiet, so the maximum since the first one decides
  const stream: [RoundCause, number][] = Array.from({ length: 20 }, (_, i) => ["membership", 1000 + i * 50]);
  assert.equal(run(stream)?.due, 2000);
});

test("a config change during a membership burst is not held back, and its round carries the joins", () => {
  const p = run([
    ["membership", 1000],
    ["membership", 1080],
    ["change", 1090],
  ]);
  assert.deepEqual(p, { due: 1120, cause: "change", membershipSince: 1000 });
  // joins after it stay in that round, not later
  assert.equal(scheduleAt(p, "membership", 1100, t).due, 1120);
});

test("a membership round is never sooner than the debounce", () => {
  assert.equal(scheduleAt(null, "membership", 0, { ...t, membershipQuietMs: 0 }).due, 30);
});

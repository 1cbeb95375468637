/** The group-commit batcher behind hello registration: what goes together, and how failures stay with their items. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Batcher } from "../server/control-plane/batcher.ts";

/** A batch function whose writes the test releases by hand. */
function gated() {
  const calls: number[][] = [];
  const gates: (() => void)[] = [];
  const write = async (items: number[]) => {
    calls.push(items);
    await new Promise<void>((r) => gates.push(r));
    return items.map((i) => (i < 0 ? new Error(`bad ${i}`) : i * 10));
  };
  const release = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { calls, write, release };
}

describe("Batcher", () => {
  test("items of one tick share a batch; items arriving during a write wait and go together in the next", async () => {
    const g = gated();
    const b = new Batcher(g.write);
    const first = [b.add(1), b.add(2)];
    await g.release();
    assert.deepEqual(await Promise.all(first), [10, 20]);
    const a = b.add(3);
    while (g.calls.length < 2) await new Promise((r) => setImmediate(r));
    const later = [b.add(4), b.add(5), b.add(6)]; // while batch [3] is being written
    await g.release();
    assert.equal(await a, 30);
    await g.release();
    assert.deepEqual(await Promise.all(later), [40, 50, 60]);
    assert.deepEqual(g.calls, [[1, 2], [3], [4, 5, 6]]);
    assert.equal(b.batches, 3);
    assert.equal(b.largest, 3);
  });

  test("an Error answer rejects its item only; a batch that throws rejects its items and the next batch still runs", async () => {
    const g = gated();
    const b = new Batcher(g.write);
    const mixed = [b.add(1), b.add(-2), b.add(3)];
    await g.release();
    const settled = await Promise.allSettled(mixed);
    assert.deepEqual(
      settled.map((s) => s.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /bad -2/);

    let fail = true;
    const flaky = new Batcher<number, number>(async (items) => {
      if (fail) {
        fail = false;
        throw new Error("database gone");
      }
      return items;
    });
    await assert.rejects(Promise.all([flaky.add(1), flaky.add(2)]), /database gone/);
    assert.equal(await flaky.add(3), 3);
  });

  test("a batch holds at most maxBatch items; the rest follow in order", async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 4);
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.add(i)));
    assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(sizes, [4, 4, 2]);
  });

  test("an answer of the wrong length rejects the whole batch rather than misattributing results", async () => {
    const b = new Batcher<number, number>(async (items) => items.slice(1));
    await assert.rejects(Promise.all([b.add(1), b.add(2)]), /answered 1 of 2/);
  });
});

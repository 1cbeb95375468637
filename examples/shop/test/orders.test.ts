/** Order status after checkout: the statuses in order, subscribers hear each change, unknown orders are unknown. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type OrderEvent, OrderTracker } from "../src/services/orders.ts";

test("an order moves paid → packed → shipped → delivered and subscribers hear every change", async () => {
  const tracker = new OrderTracker(5);
  // The tracker's timers are unref'd (they must not hold a shop process open): this one keeps the test's loop alive,
  // and bounds it.
  const bound = setTimeout(() => assert.fail("the order did not reach delivered within 10 s"), 10_000);
  assert.equal(tracker.place("o-1").status, "paid");
  assert.equal(tracker.status("o-1")?.status, "paid");
  const heard: OrderEvent[] = [];
  const delivered = new Promise<void>((resolve) => {
    tracker.subscribe("o-1", (e) => {
      heard.push(e);
      if (e.status === "delivered") resolve();
    });
  });
  await delivered;
  clearTimeout(bound);
  assert.deepEqual(
    heard.map((e) => [e.orderId, e.status]),
    [
      ["o-1", "packed"],
      ["o-1", "shipped"],
      ["o-1", "delivered"],
    ],
  );
  assert.equal(tracker.status("o-1")?.status, "delivered");
  assert.equal(tracker.status("nope"), undefined);
  assert.equal(
    tracker.subscribe("nope", () => {}),
    undefined,
  );
});

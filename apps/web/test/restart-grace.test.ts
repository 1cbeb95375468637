/** The restart grace on a fake clock: endpoints kept after a console restart until they reconnect or expire. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { RestartGrace } from "../server/control-plane/restart-grace.ts";
import type { EndpointRow } from "../server/repositories/index.ts";

const GRACE = 30_000;
const T0 = 1_000_000;

function row(instanceId: string, lastSeenAgoMs: number): EndpointRow {
  return { instanceId, service: "api", version: "v1", address: `10.0.0.1:${instanceId.length}`, lastSeen: new Date(T0 - lastSeenAgoMs) };
}

let expired: number[];
let grace: RestartGrace;

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
  expired = [];
  grace = new RestartGrace(GRACE, (n) => expired.push(n));
});

afterEach(() => {
  grace.stop();
  mock.timers.reset();
});

describe("restart grace", () => {
  test("kept endpoints join the connected ones until they reconnect", () => {
    grace.keep([row("a", 0), row("b", 0)]);
    const connected = [row("b", 0), row("c", 0)];
    assert.deepEqual(
      grace.endpoints(connected, Date.now()).map((e) => e.instanceId),
      ["b", "c", "a"],
      "b is connected: listed once",
    );
    grace.drop("a");
    assert.deepEqual(
      grace.endpoints([], Date.now()).map((e) => e.instanceId),
      ["b"],
    );
  });

  test("the grace counts from when the instance was last seen; expiry is reported once per batch", () => {
    grace.keep([row("old", 20_000), row("new", 0)]);
    mock.timers.tick(GRACE - 20_000 + 9);
    assert.deepEqual(expired, []);
    mock.timers.tick(1);
    assert.deepEqual(expired, [1], "old expired (timer runs 10 ms after the soonest expiry)");
    assert.deepEqual(
      grace.endpoints([], Date.now()).map((e) => e.instanceId),
      ["new"],
    );
    mock.timers.tick(20_000);
    assert.deepEqual(expired, [1, 1]);
    assert.equal(grace.size, 0);
    mock.timers.tick(GRACE);
    assert.deepEqual(expired, [1, 1], "nothing kept: no timer");
  });

  test("a round after the grace passed forgets the endpoint even before the timer fires", () => {
    grace.keep([row("a", 0)]);
    assert.deepEqual(grace.endpoints([], T0 + GRACE), []);
    assert.equal(grace.size, 0);
  });

  test("stop() cancels the expiry timer", () => {
    grace.keep([row("a", 0)]);
    grace.stop();
    mock.timers.tick(2 * GRACE);
    assert.deepEqual(expired, []);
  });
});

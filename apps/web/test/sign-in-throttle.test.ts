/** Sign-in throttling on a fake clock: the per-key state machine (exponential lock, forgetting, bounded) and the guard. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SignInGuard } from "../server/audit/sign-in-guard.ts";
import { Throttle } from "../server/audit/throttle.ts";

const policy = { freeFailures: 3, baseMs: 1_000, maxMs: 8_000, forgetMs: 60_000, maxKeys: 100 };

test("free failures, then a lock doubling per failure up to the cap; allowed again when the lock ends", () => {
  const t = new Throttle(policy);
  let now = 0;
  assert.deepEqual(
    [1, 2].map(() => t.failure("k", now)),
    [0, 0],
  );
  assert.deepEqual(t.check("k", now), { allowed: true });
  assert.equal(t.failure("k", now), 1_000, "the third failure locks for baseMs");
  assert.deepEqual(t.check("k", now + 400), { allowed: false, retryAfterMs: 600, refusals: 1 });
  assert.deepEqual(t.check("k", now + 500), { allowed: false, retryAfterMs: 500, refusals: 2 }, "refusals are counted per lock");
  now += 1_000;
  assert.deepEqual(t.check("k", now), { allowed: true });
  assert.equal(t.failure("k", now), 2_000);
  assert.deepEqual(t.check("k", now), { allowed: false, retryAfterMs: 2_000, refusals: 1 }, "a new lock counts afresh");
  now += 2_000;
  assert.equal(t.failure("k", now), 4_000);
  now += 4_000;
  assert.equal(t.failure("k", now), 8_000);
  now += 8_000;
  assert.equal(t.failure("k", now), 8_000, "capped at maxMs");
  assert.deepEqual(t.check("other", now), { allowed: true }, "keys are independent");
});

test("a success clears the key; failures are forgotten after forgetMs without one", () => {
  const t = new Throttle(policy);
  for (let i = 0; i < 3; i++) t.failure("a", 0);
  assert.equal(t.check("a", 10).allowed, false);
  t.success("a");
  assert.equal(t.check("a", 10).allowed, true);
  assert.equal(t.failure("a", 20), 0, "counting starts again");
  for (let i = 0; i < 3; i++) t.failure("b", 0);
  assert.equal(t.check("b", 59_999).allowed, true, "the lock (1 s) is over");
  assert.equal(t.failure("b", 59_999), 2_000, "…but the failures are remembered");
  assert.equal(t.failure("b", 59_999 + 2_000 + 60_000), 0, "a minute after the last failure and its lock: forgotten");
});

test("at most maxKeys keys, the least recently failed dropped first", () => {
  const t = new Throttle({ ...policy, maxKeys: 3 });
  for (const k of ["a", "b", "c", "a", "d"]) t.failure(k, 0);
  assert.equal(t.size, 3);
  for (let i = 0; i < 2; i++) t.failure("a", 0);
  assert.equal(t.check("a", 0).allowed, false, "a survived (recent) and is now locked after 3 failures");
});

test("the guard: per username (whether it exists or not, case-insensitive) and per client address", () => {
  let now = 0;
  const guard = new SignInGuard({ perUser: policy, perAddress: { ...policy, freeFailures: 5 }, now: () => now });
  for (let i = 0; i < 3; i++) guard.failed("Alice", "10.0.0.1");
  assert.deepEqual(guard.check("alice", "10.0.0.9"), { allowed: false, retryAfterMs: 1_000, first: true }, "the username is locked from any address");
  assert.deepEqual(guard.check("alice", "10.0.0.8"), { allowed: false, retryAfterMs: 1_000, first: false }, "not the lock's first refusal");
  assert.equal(guard.check("bob", "10.0.0.1").allowed, true, "the address is still free (5 failures allowed)");
  now += 1_000;
  guard.failed("bob", "10.0.0.1");
  guard.failed("carol", "10.0.0.1");
  const d = guard.check("dave", "10.0.0.1");
  assert.equal(d.allowed, false, "the address tried too many accounts");
  guard.succeeded("dave");
  assert.equal(guard.check("dave", "10.0.0.2").allowed, true);
  assert.equal(guard.check("erin", "10.0.0.1").allowed, false, "a success does not clear the address");
});

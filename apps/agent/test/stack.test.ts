/** The outbound stack in-process with a fake clock: layer order, retries and their budget, breaker, outlier detection. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { RetryBudget } from "../src/policy/retry-budget.ts";
import { inboundHarness, outboundHarness, proxyErrorOf } from "./inproc.ts";

type Service = MeshSnapshotInput["services"][number];
const A = "10.0.0.1:80";
const B = "10.0.0.2:80";

function snap(policy: Partial<Service>, addresses = [A, B], version = 1): MeshSnapshotInput {
  const endpoints = addresses.map((address, i) => ({ address, version: "v1", instanceId: `i${i}` }));
  return {
    version,
    service: "web",
    issuedAt: new Date().toISOString(),
    services: [{ name: "catalog", versions: ["v1"], endpoints, timeoutMs: 0, loadBalancer: "round-robin", ...policy }],
  };
}

describe("outbound stack (in-process, fake clock)", () => {
  test("layers run in the documented order, completion in reverse", () => {
    const h = outboundHarness();
    assert.deepEqual(h.stack.names(), ["observe", "route", "fault", "timeout", "mirror", "retry", "balance", "circuit", "connect"]);
    h.apply(snap({}));
    const ex = h.send("catalog");
    assert.equal(ex.depth, 9, "the request reached connect");
    assert.equal(h.upstreams.get(A)!.calls.length + h.upstreams.get(B)!.calls.length, 1);
    const up = h.upstreams.get(A)!.calls.length === 1 ? h.upstreams.get(A)! : h.upstreams.get(B)!;
    up.calls[0].answer(200, "ok");
    assert.equal(ex.isDone(), true);
    assert.equal(ex.status, 200);
    assert.equal(ex.target!.ep.inflight, 0, "balance released the endpoint on completion");
  });

  test("the inbound stack runs observe → ready → mtls → authz → app", () => {
    assert.deepEqual(inboundHarness("catalog").stack.names(), ["observe", "ready", "mtls", "authz", "app"]);
  });

  test("a retriable status is swallowed and retried on another endpoint; the client sees only the last answer", () => {
    const h = outboundHarness();
    h.apply(snap({ retries: { attempts: 2, retryOn: ["5xx"] } }));
    const ex = h.send("catalog");
    const first = ex.target!.ep.address;
    const up = (addr: string) => h.upstreams.get(addr)!;
    up(first).calls[0].answer(503, "busy");
    assert.equal(ex.isDone(), false, "the 503 was not relayed");
    const second = ex.target!.ep.address;
    assert.notEqual(second, first, "balance ran again (round-robin moves on)");
    up(second).calls[0].answer(200, "ok");
    assert.equal(ex.status, 200);
    assert.equal(ex.dispatches, 2);
    assert.equal(ex.res.headersSent, true);
    assert.equal(h.config.routes!.services.get("catalog")!.retry!.budget.granted, 1);
  });

  test("the retry budget caps retries over its 10 s window and refills as the clock moves", () => {
    const h = outboundHarness();
    h.apply(snap({ retries: { attempts: 1, retryOn: ["5xx"], budget: { ratio: 0, minRetriesPerSecond: 1 } } }, [A]));
    const up = h.upstreams.get(A)!;
    up.auto = (call) => call.answer(500, "no");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(h.send("catalog").status);
    // 10 retries fit in the window (1/s × 10 s): 10 calls made 2 attempts, the last 2 only one.
    assert.equal(up.calls.length, 12 + 10);
    assert.ok(statuses.every((s) => s === 500));
    const budget = h.config.routes!.services.get("catalog")!.retry!.budget;
    assert.equal(budget.refused, 2);
    h.clock.advance(10_000);
    h.send("catalog");
    assert.equal(up.calls.length, 22 + 2, "after the window the budget pays again");
  });

  test("retry budget on its own: ratio of deposits plus the floor, per sliding window", () => {
    const b = new RetryBudget(0.5, 0);
    for (let i = 0; i < 10; i++) b.deposit(0);
    for (let i = 0; i < 5; i++) assert.equal(b.tryWithdraw(500), true);
    assert.equal(b.tryWithdraw(900), false);
    assert.equal(b.tryWithdraw(10_500), false, "deposits older than the window no longer count");
    b.deposit(10_600);
    b.deposit(10_600);
    assert.equal(b.tryWithdraw(10_700), true);
  });

  test("circuit breaker: beyond maxRequests in flight calls fail fast with circuit-open; a finished call frees a slot", () => {
    const h = outboundHarness();
    h.apply(snap({ circuitBreaker: { maxRequests: 2 } }));
    const a = h.send("catalog");
    const b = h.send("catalog");
    const c = h.send("catalog");
    assert.equal(c.status, 503);
    assert.equal(proxyErrorOf(c), "circuit-open");
    assert.equal(a.isDone() || b.isDone(), false);
    h.upstreams.get(a.target!.ep.address)!.calls[0].answer(200);
    const d = h.send("catalog");
    assert.equal(d.isDone(), false, "admitted again");
    assert.equal(h.config.routes!.services.get("catalog")!.breaker!.active, 2);
  });

  test("outlier detection ejects an endpoint after consecutive 5xx and returns it when the ejection time has passed", () => {
    const h = outboundHarness();
    h.apply(snap({ outlierDetection: { consecutive5xx: 3, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 } }));
    h.upstreams.get(A)!.auto = (call) => call.answer(500);
    h.upstreams.get(B)!.auto = (call) => call.answer(200);
    for (let i = 0; i < 6; i++) h.send("catalog"); // round-robin: 3 × A (500), 3 × B
    assert.equal(h.upstreams.get(A)!.calls.length, 3);
    const ep = h.config.routes!.services.get("catalog")!.all.targets[0].ep;
    assert.equal(ep.isEjected(h.clock.now()), true);
    for (let i = 0; i < 4; i++) assert.equal(h.send("catalog").status, 200);
    assert.equal(h.upstreams.get(A)!.calls.length, 3, "ejected: no traffic");
    h.clock.advance(30_001);
    for (let i = 0; i < 4; i++) h.send("catalog");
    assert.ok(h.upstreams.get(A)!.calls.length > 3, "back in service after the ejection time");
  });
});

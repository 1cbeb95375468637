/** A new snapshot keeps the retry budget, the breaker's in-flight count and outlier counters of unchanged policies. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { outboundHarness, proxyErrorOf } from "./inproc.ts";

type Service = MeshSnapshotInput["services"][number];
const A = "10.0.0.1:80";
const B = "10.0.0.2:80";

function snap(version: number, policy: Partial<Service>, extra: Service[] = []): MeshSnapshotInput {
  return {
    version,
    service: "web",
    issuedAt: new Date().toISOString(),
    services: [
      {
        name: "catalog",
        versions: ["v1"],
        endpoints: [
          { address: A, version: "v1", instanceId: "a" },
          { address: B, version: "v1", instanceId: "b" },
        ],
        timeoutMs: 0,
        loadBalancer: "round-robin",
        ...policy,
      },
      ...extra,
    ],
  };
}

const other: Service = { name: "search", versions: ["v1"], endpoints: [{ address: "10.0.0.9:80", version: "v1", instanceId: "s" }] };
const retries = { attempts: 1, retryOn: ["5xx" as const], budget: { ratio: 0, minRetriesPerSecond: 1 } };

test("the retry budget survives a snapshot that leaves the service's retry policy as it was", () => {
  const h = outboundHarness();
  h.apply(snap(1, { retries }));
  for (const up of h.upstreams.values()) up.auto = (call) => call.answer(500);
  for (let i = 0; i < 10; i++) h.send("catalog"); // spends the whole budget (10 retries per 10 s)
  const calls = () => [...h.upstreams.values()].reduce((n, u) => n + u.calls.length, 0);
  assert.equal(calls(), 20);
  // An unrelated change (another service), and the same policy written with its keys in another order.
  h.apply(snap(2, { retries: { budget: { minRetriesPerSecond: 1, ratio: 0 }, retryOn: ["5xx"], attempts: 1 } }, [other]));
  for (const up of h.upstreams.values()) up.auto = (call) => call.answer(500);
  h.send("catalog");
  assert.equal(calls(), 21, "the budget is still spent: no retry");
  // A changed policy may start afresh.
  h.apply(snap(3, { retries: { ...retries, attempts: 2 } }, [other]));
  for (const up of h.upstreams.values()) up.auto = (call) => call.answer(500);
  h.send("catalog");
  assert.ok(calls() > 22, "a new policy, a new budget");
});

test("the breaker's in-flight count survives a snapshot with the same breaker policy", () => {
  const h = outboundHarness();
  h.apply(snap(1, { circuitBreaker: { maxRequests: 2 } }));
  const a = h.send("catalog");
  h.send("catalog");
  h.apply(snap(2, { circuitBreaker: { maxRequests: 2 } }, [other]));
  const c = h.send("catalog");
  assert.equal(proxyErrorOf(c), "circuit-open", "two calls are still in flight");
  h.upstreams.get(a.target!.ep.address)!.calls[0].answer(200);
  const d = h.send("catalog");
  assert.equal(d.isDone(), false, "a finished call (started before the snapshot) frees its slot");
});

test("a changed breaker policy starts counting afresh; calls started before it release the breaker they held", () => {
  const h = outboundHarness();
  h.apply(snap(1, { circuitBreaker: { maxRequests: 1 } }));
  const a = h.send("catalog");
  h.apply(snap(2, { circuitBreaker: { maxRequests: 2 } }));
  const fresh = h.config.routes!.services.get("catalog")!.breaker!;
  assert.equal(fresh.active, 0);
  const b = h.send("catalog");
  assert.equal(b.isDone(), false);
  assert.equal(fresh.active, 1);
  h.upstreams.get(a.target!.ep.address)!.calls[0].answer(200);
  assert.equal(fresh.active, 1, "the old call released the old breaker, not the new one");
});

test("outlier counters survive a snapshot", () => {
  const h = outboundHarness();
  const od = { outlierDetection: { consecutive5xx: 3, maxEjectionPercent: 50 } };
  h.apply(snap(1, od));
  h.upstreams.get(A)!.auto = (call) => call.answer(500);
  h.upstreams.get(B)!.auto = (call) => call.answer(200);
  for (let i = 0; i < 4; i++) h.send("catalog"); // A: two 500s
  h.apply(snap(2, od, [other]));
  for (let i = 0; i < 2; i++) h.send("catalog"); // A: a third
  const ep = h.config.routes!.services.get("catalog")!.all.targets.find((t) => t.ep.address === A)!.ep;
  assert.equal(ep.isEjected(h.clock.now()), true);
});

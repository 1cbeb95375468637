/** P2C's latency estimate counts failures against an endpoint: a fast-failing endpoint must not attract traffic. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { outboundHarness } from "./inproc.ts";

const FAILING = "10.0.0.1:80";
const HEALTHY = "10.0.0.2:80";

test("P2C: an endpoint answering 500 in 0.1 ms gets clearly less traffic than one answering 200 in 5 ms", () => {
  const h = outboundHarness();
  h.apply({
    version: 1,
    service: "web",
    issuedAt: new Date().toISOString(),
    services: [
      {
        name: "catalog",
        versions: ["v1"],
        timeoutMs: 0,
        loadBalancer: "p2c",
        endpoints: [
          { address: FAILING, version: "v1", instanceId: "failing" },
          { address: HEALTHY, version: "v1", instanceId: "healthy" },
        ],
      },
    ],
  });
  h.upstreams.get(FAILING)!.auto = (call) => {
    h.clock.advance(0.1);
    call.answer(500, "no");
  };
  h.upstreams.get(HEALTHY)!.auto = (call) => {
    h.clock.advance(5);
    call.answer(200, "ok");
  };
  const N = 400;
  for (let i = 0; i < N; i++) h.send("catalog");
  const share = h.upstreams.get(FAILING)!.calls.length / N;
  assert.ok(share < 0.2, `the failing endpoint got ${(share * 100).toFixed(1)}% of the calls`);
});

test("a failed endpoint is tried again once its penalty has decayed (it may have recovered)", () => {
  const h = outboundHarness();
  h.apply({
    version: 1,
    service: "web",
    issuedAt: new Date().toISOString(),
    services: [
      {
        name: "catalog",
        versions: ["v1"],
        timeoutMs: 0,
        loadBalancer: "p2c",
        endpoints: [
          { address: FAILING, version: "v1", instanceId: "failing" },
          { address: HEALTHY, version: "v1", instanceId: "healthy" },
        ],
      },
    ],
  });
  let failing = true;
  h.upstreams.get(FAILING)!.auto = (call) => call.answer(failing ? 500 : 200);
  h.upstreams.get(HEALTHY)!.auto = (call) => {
    h.clock.advance(5);
    call.answer(200);
  };
  for (let i = 0; i < 50; i++) h.send("catalog");
  const before = h.upstreams.get(FAILING)!.calls.length;
  failing = false;
  h.clock.advance(120_000);
  for (let i = 0; i < 50; i++) h.send("catalog");
  assert.ok(h.upstreams.get(FAILING)!.calls.length > before + 10, "the recovered endpoint takes traffic again");
});

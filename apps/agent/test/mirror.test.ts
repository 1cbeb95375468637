/** Traffic mirroring in the outbound stack, in-process: the copy, its marks, its telemetry, and that it never holds up the call. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { MAX_MIRRORS_IN_FLIGHT } from "../src/outbound/mirror.ts";
import { shadowHeaders, shadowHost } from "../src/outbound/mirror-copy.ts";
import { outboundHarness } from "./inproc.ts";

type Service = MeshSnapshotInput["services"][number];
const V1 = "10.0.0.1:80";
const V2 = "10.0.0.2:80";

function snap(policy: Partial<Service>): MeshSnapshotInput {
  return {
    version: 1,
    service: "web",
    issuedAt: new Date().toISOString(),
    services: [
      {
        name: "payments",
        versions: ["v1", "v2"],
        endpoints: [
          { address: V1, version: "v1", instanceId: "a" },
          { address: V2, version: "v2", instanceId: "b" },
        ],
        split: [
          { version: "v1", weight: 100 },
          { version: "v2", weight: 0 },
        ],
        ...policy,
      },
    ],
  };
}

function header(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === name) return headers[i + 1];
  return undefined;
}

describe("traffic mirroring (outbound stack, in-process)", () => {
  test("shadow host: the name gets -shadow, a port stays", () => {
    assert.equal(shadowHost("payments"), "payments-shadow");
    assert.equal(shadowHost("payments:8080"), "payments-shadow:8080");
    assert.equal(shadowHost("[::1]:80"), "[::1]-shadow:80");
    const h = shadowHeaders(["Host", "payments", "x-trellis-mirror", "7", "accept", "*/*"], "payments");
    assert.deepEqual(h, ["Host", "payments-shadow", "accept", "*/*", "x-trellis-mirror", "1"]);
    assert.equal(header(shadowHeaders([], "payments"), "host"), "payments-shadow");
  });

  test("a mirrored call: the copy goes to v2 marked as a shadow, the caller gets v1's answer without waiting for it", () => {
    const h = outboundHarness();
    h.apply(snap({ mirror: { version: "v2", percent: 100 } }));
    const ex = h.send("payments", "/charge", "GET", ["host", "payments"]);
    const copy = h.upstreams.get(V2)!.calls;
    assert.equal(copy.length, 1, "one copy to v2");
    assert.equal(copy[0].path, "/charge");
    assert.equal(header(copy[0].headers, "host"), "payments-shadow");
    assert.equal(header(copy[0].headers, "x-trellis-mirror"), "1");
    const orig = h.upstreams.get(V1)!.calls;
    assert.equal(orig.length, 1, "the call itself goes to v1");
    assert.equal(header(orig[0].headers, "host"), "payments", "the call keeps its Host");
    orig[0].answer(200, "from v1");
    assert.equal(ex.isDone(), true, "answered while the copy is still in flight");
    assert.equal(ex.status, 200);

    // The copy ends (failing): recorded on the mirror edge only, as mirrored.
    copy[0].answer(500, "v2 broke");
    const edges = h.config.routes!.services.get("payments")!;
    assert.ok(edges.mirror !== null);
    const stats = [] as import("@trellis/protocol").EdgeStats[];
    edges.mirror!.edge.drainInto(stats);
    assert.deepEqual(
      stats.map((s) => [s.destinationVersion, s.statusClass, s.requests, s.errors, s.mirrored]),
      [["v2", "5xx", 1, 1, 1]],
    );
    const answered = [] as import("@trellis/protocol").EdgeStats[];
    ex.edge!.drainInto(answered);
    assert.deepEqual(
      answered.map((s) => [s.destinationVersion, s.requests, s.mirrored]),
      [["v1", 1, undefined]],
      "the answered call is not marked mirrored",
    );
  });

  test("a copy that fails to connect does not fail the call", () => {
    const h = outboundHarness();
    h.apply(snap({ mirror: { version: "v2", percent: 100 } }));
    const ex = h.send("payments");
    h.upstreams.get(V2)!.calls[0].error(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    assert.equal(ex.isDone(), false, "the call is still waiting for v1");
    h.upstreams.get(V1)!.calls[0].answer(200, "ok");
    assert.equal(ex.status, 200);
  });

  test("beyond the in-flight bound copies are dropped and counted; calls go on", () => {
    const h = outboundHarness();
    h.apply(snap({ mirror: { version: "v2", percent: 100 } }));
    const n = MAX_MIRRORS_IN_FLIGHT + 5;
    const calls = Array.from({ length: n }, () => h.send("payments"));
    assert.equal(h.upstreams.get(V2)!.calls.length, MAX_MIRRORS_IN_FLIGHT, "copies capped");
    assert.equal(h.upstreams.get(V1)!.calls.length, n, "every call went on");
    const mirror = h.config.routes!.services.get("payments")!.mirror!;
    assert.equal(mirror.edge.mirrorsDropped, 5);
    for (const c of h.upstreams.get(V1)!.calls) c.answer(200);
    assert.ok(calls.every((ex) => ex.status === 200));
    // Ending copies frees room again.
    for (const c of h.upstreams.get(V2)!.calls) c.answer(200);
    h.send("payments");
    assert.equal(h.upstreams.get(V2)!.calls.length, MAX_MIRRORS_IN_FLIGHT + 1);
  });

  test("percent picks about that share; a route's mirror takes precedence over the service's", () => {
    const h = outboundHarness();
    h.apply(
      snap({
        mirror: { version: "v2", percent: 50 },
        routes: [{ name: "none", match: { pathPrefix: "/health" }, version: "v1", mirror: { version: "v2", percent: 0 } }],
      }),
    );
    h.upstreams.get(V2)!.auto = (c) => c.answer(200);
    for (let i = 0; i < 1000; i++) h.send("payments", "/charge");
    const copies = h.upstreams.get(V2)!.calls.length;
    assert.ok(copies > 400 && copies < 600, `~50% mirrored (${copies}/1000)`);
    for (let i = 0; i < 100; i++) h.send("payments", "/health");
    assert.equal(h.upstreams.get(V2)!.calls.length, copies, "the route's 0% mirrors nothing");
  });
});

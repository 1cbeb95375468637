/**
 * Traffic mirroring through real agents: the caller's agent mirrors 50% of its payments calls to v2, each version
 * behind its own agent (outbound → inbound → app). v2 receives about half of the calls, marked as shadows; callers get
 * v1's answers; a slow or failing v2 neither slows nor fails them; the caller's /metrics counts the mirrored copies.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually } from "@trellis/testkit";
import { type AgentProc, cleanup, getText, request, snapshot, startAgent, startApp, type TestApp } from "./helpers.ts";

type V2Mode = "ok" | "slow" | "failing";

/** requests_total of the caller's mirror edge to payments v2 (all codes), from its /metrics. */
async function mirroredTotal(admin: number): Promise<number> {
  const { text } = await getText(admin, "/metrics");
  let n = 0;
  for (const line of text.split("\n"))
    if (line.startsWith("requests_total{") && line.includes('destination_version="v2"') && line.includes('mirror="true"'))
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
  return n;
}

describe("traffic mirroring through real agents", () => {
  let v1: TestApp;
  let v2: TestApp;
  let caller: AgentProc;
  let v2Mode: V2Mode = "ok";
  const N = 200;

  before(async () => {
    v1 = await startApp("v1");
    v2 = await startApp("v2", (_req, res, _body, rec) => {
      const answer = () => {
        res.writeHead(v2Mode === "failing" ? 500 : 200, { "x-app": "v2" });
        res.end(JSON.stringify({ app: "v2", host: rec.headers.host }));
      };
      if (v2Mode === "slow") setTimeout(answer, 3_000);
      else answer();
    });
    const services = (v1Port: number, v2Port: number) => [
      {
        name: "payments",
        versions: ["v1", "v2"],
        endpoints: [
          { address: `127.0.0.1:${v1Port}`, version: "v1", instanceId: "p1" },
          { address: `127.0.0.1:${v2Port}`, version: "v2", instanceId: "p2" },
        ],
        split: [
          { version: "v1", weight: 100 },
          { version: "v2", weight: 0 },
        ],
        mirror: { version: "v2", percent: 50 },
      },
    ];
    const p1 = await startAgent({ service: "payments", version: "v1", appPort: v1.port, snapshot: snapshot("payments", services(1, 1)) });
    const p2 = await startAgent({ service: "payments", version: "v2", appPort: v2.port, snapshot: snapshot("payments", services(1, 1)) });
    caller = await startAgent({ service: "checkout", appPort: 1, snapshot: snapshot("checkout", services(p1.inbound, p2.inbound)) });
  });
  after(cleanup);

  const call = (i: number) =>
    request({ port: caller.outbound, path: `/charge?i=${i}`, method: "POST", headers: { host: "payments" }, body: `{"order":${i}}` });

  test("v2 receives about half of the calls as shadows; every caller gets v1's answer", async () => {
    for (let i = 0; i < N; i++) {
      const r = await call(i);
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-app"], "v1", "the answer comes from v1");
    }
    assert.equal(v1.requests.length, N, "v1 served every call");
    const copies = await eventually(
      async () => (await mirroredTotal(caller.admin)) === v2.requests.length && v2.requests.length,
      5_000,
      "copies counted",
    );
    assert.ok(copies > N * 0.35 && copies < N * 0.65, `about 50% mirrored: ${copies}/${N}`);
    for (const rec of v2.requests) {
      assert.equal(rec.headers.host, "payments-shadow", "the copy's Host is marked as a shadow");
      assert.equal(rec.headers["x-trellis-mirror"], "1");
      assert.equal(rec.method, "POST");
    }
    // The copies carry the call's body: every one of them is a body v1 also received.
    const v1Bodies = new Set(v1.requests.map((r) => r.bodySha));
    assert.ok(v2.requests.every((r) => v1Bodies.has(r.bodySha) && r.bodyLength > 0));
    assert.ok(v1.requests.every((r) => r.headers.host === "payments" && r.headers["x-trellis-mirror"] === undefined));
  });

  test("a slow v2 does not slow the callers", async () => {
    v2Mode = "slow";
    const seen = v2.requests.length;
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const r = await call(i);
      const ms = performance.now() - t0;
      assert.equal(r.status, 200);
      // v2 holds every copy 3 s: a caller that waited for its copy would take that long.
      assert.ok(ms < 1_500, `call ${i} took ${Math.round(ms)} ms`);
    }
    await eventually(async () => v2.requests.length > seen, 5_000, "v2 got copies while slow");
  });

  test("a failing v2 does not fail the callers; its failures count on the mirror edge only", async () => {
    v2Mode = "failing";
    const seen = v2.requests.length;
    for (let i = 0; i < 60; i++) {
      const r = await call(i);
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-app"], "v1");
    }
    await eventually(async () => v2.requests.length > seen, 5_000, "v2 got copies while failing");
    const text = (await getText(caller.admin, "/metrics")).text;
    await eventually(
      async () =>
        /requests_total\{[^}]*destination_version="v2",mirror="true",response_code="500"\} [1-9]/.test(
          (await getText(caller.admin, "/metrics")).text,
        ),
      5_000,
      "v2's 500s on the mirror edge",
    );
    assert.ok(!/destination_version="v1"[^}]*response_code="500"/.test(text), "no failure on the answered edge");
  });
});

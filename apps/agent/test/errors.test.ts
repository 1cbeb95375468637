/** Every proxy-made failure: its status and `x-trellis-error`, and bad input never takes the agent down. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type AgentProc,
  cleanup,
  closedPort,
  getText,
  rawExchange,
  request,
  snapshot,
  startAgent,
  startApp,
  startResetServer,
  type TestApp,
} from "./helpers.ts";

describe("proxy-made errors", () => {
  let agent: AgentProc;
  let ok: TestApp;

  before(async () => {
    ok = await startApp("ok");
    const slow = await startApp("slow", (_req, res) => {
      const t = setTimeout(() => res.end("late"), 3_000);
      res.on("close", () => clearTimeout(t));
    });
    const reset = await startResetServer();
    const dead = await closedPort();
    const ep = (port: number, version = "v1") => ({ address: `127.0.0.1:${port}`, version, instanceId: `i-${port}` });
    agent = await startAgent({
      service: "shop",
      appPort: ok.port,
      args: ["--headers-timeout-ms", "400"],
      snapshot: snapshot("shop", [
        { name: "shop", versions: ["v1"], endpoints: [] },
        { name: "catalog", versions: ["v1"], endpoints: [ep(ok.port)] },
        { name: "dead", versions: ["v1"], endpoints: [ep(dead)] },
        { name: "empty", versions: ["v1"], endpoints: [] },
        { name: "canary", versions: ["v1", "v2"], endpoints: [ep(ok.port)], split: [{ version: "v2", weight: 100 }] },
        { name: "resetter", versions: ["v1"], endpoints: [ep(reset)] },
        { name: "slow", versions: ["v1"], endpoints: [ep(slow.port)], timeoutMs: 200 },
      ]),
    });
  });
  after(cleanup);

  const call = (service: string, port = agent.outbound) => request({ port, path: "/p", headers: { host: service } });

  test("upstream-connect-refused → 502 when nothing listens (and again while ejected)", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await call("dead");
      assert.equal(r.status, 502);
      assert.equal(r.headers["x-trellis-error"], "upstream-connect-refused");
    }
  });

  test("no-healthy-endpoints → 503 for a known service without endpoints, or a split subset without any", async () => {
    for (const svc of ["empty", "canary"]) {
      const r = await call(svc);
      assert.equal(r.status, 503, svc);
      assert.equal(r.headers["x-trellis-error"], "no-healthy-endpoints", svc);
    }
  });

  test("unknown-service → 503 for a name not in the snapshot", async () => {
    const r = await call("nosuch");
    assert.equal(r.status, 503);
    assert.equal(r.headers["x-trellis-error"], "unknown-service");
    const abs = await request({ port: agent.outbound, path: "http://other.example:81/x" });
    assert.equal(abs.headers["x-trellis-error"], "unknown-service");
  });

  test("upstream-reset → 502 when the upstream resets the connection", async () => {
    const r = await call("resetter");
    assert.equal(r.status, 502);
    assert.equal(r.headers["x-trellis-error"], "upstream-reset");
  });

  test("timeout → 504 after the service's timeoutMs", async () => {
    const t0 = performance.now();
    const r = await call("slow");
    const elapsed = performance.now() - t0;
    assert.equal(r.status, 504);
    assert.equal(r.headers["x-trellis-error"], "timeout");
    // Not before the 200 ms timeout; the upstream answers only after 3 s, so a 504 `timeout` shows it did not wait.
    assert.ok(elapsed >= 190, `took ${elapsed.toFixed(0)} ms`);
  });

  test("431 on huge headers, 400 on garbage, 408 on a stalled client, 405 on CONNECT — and the agent keeps serving", async () => {
    const big = await request({ port: agent.outbound, path: "/", headers: { host: "catalog", "x-big": "a".repeat(20_000) }, keepAlive: false });
    assert.equal(big.status, 431);
    assert.equal(big.headers["x-trellis-error"], "headers-too-large");
    const garbage = await rawExchange(agent.outbound, "NOT HTTP AT ALL\r\n\r\n");
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /x-trellis-error: bad-request/);
    const stalled = await rawExchange(agent.inbound, "GET / HTTP/1.1\r\nHost: shop\r\nX-Slow: ");
    assert.match(stalled, /^HTTP\/1\.1 408 /);
    const connect = await rawExchange(agent.outbound, "CONNECT catalog:443 HTTP/1.1\r\nHost: catalog:443\r\n\r\n");
    assert.match(connect, /^HTTP\/1\.1 405 /);
    assert.match(connect, /x-trellis-error: connect-not-supported/);
    const r = await call("catalog");
    assert.equal(r.status, 200);
    const inb = await request({ port: agent.inbound, path: "/", headers: { host: "shop" } });
    assert.equal(inb.status, 200);
    await agent.waitForLine((l) => l.msg === "rejected malformed request" && l.status === 431, 2_000, "431 logged");
  });

  test("proxy errors are counted in /metrics by kind", async () => {
    const { text } = await getText(agent.admin, "/metrics");
    for (const kind of ["upstream-connect-refused", "no-healthy-endpoints", "unknown-service", "upstream-reset", "timeout"])
      assert.match(text, new RegExp(`^trellis_proxy_errors_total\\{listener="outbound",error="${kind}"\\} [1-9]`, "m"), kind);
    assert.match(text, /destination_service="dead",destination_version="v1",response_code="502"\} 2$/m);
  });
});

describe("inbound and readiness errors", () => {
  after(cleanup);

  test("app-unavailable → 502 on inbound when the local app is down", async () => {
    const agent = await startAgent({
      service: "catalog",
      appPort: await closedPort(),
      snapshot: snapshot("catalog", [{ name: "catalog", versions: ["v1"], endpoints: [] }]),
    });
    const r = await request({ port: agent.inbound, path: "/", headers: { host: "catalog" } });
    assert.equal(r.status, 502);
    assert.equal(r.headers["x-trellis-error"], "app-unavailable");
  });

  test("not-ready → 503 on both listeners and /ready 503 until a snapshot is applied; /healthz 200", async () => {
    const app = await startApp("app");
    const agent = await startAgent({ service: "catalog", appPort: app.port });
    const out = await request({ port: agent.outbound, path: "/", headers: { host: "catalog" } });
    assert.equal(out.status, 503);
    assert.equal(out.headers["x-trellis-error"], "not-ready");
    const inb = await request({ port: agent.inbound, path: "/", headers: { host: "catalog" } });
    assert.equal(inb.status, 503);
    assert.equal(inb.headers["x-trellis-error"], "not-ready");
    assert.equal(app.requests.length, 0);
    assert.equal((await getText(agent.admin, "/ready")).status, 503);
    assert.equal((await getText(agent.admin, "/healthz")).status, 200);
    const cfg = JSON.parse((await getText(agent.admin, "/config")).text);
    assert.deepEqual(cfg, { version: 0, appliedAt: null, console: null, snapshot: null });
  });
});

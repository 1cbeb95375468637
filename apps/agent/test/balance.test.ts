/** Split (which subset) and balancing (which endpoint), through a real agent to real apps. */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { cleanup, closedPort, getText, request, runConcurrent, snapshot, startAgent, startApp } from "./helpers.ts";

describe("split and balance", () => {
  after(cleanup);

  test("a 90/10 split sends traffic to versions in proportion (2,000 calls, ±3 points)", async () => {
    const v1a = await startApp("v1");
    const v1b = await startApp("v1");
    const v2 = await startApp("v2");
    const agent = await startAgent({
      service: "shop",
      appPort: 1,
      snapshot: snapshot("shop", [
        {
          name: "catalog",
          versions: ["v1", "v2"],
          endpoints: [
            { address: `127.0.0.1:${v1a.port}`, version: "v1", instanceId: "a" },
            { address: `127.0.0.1:${v1b.port}`, version: "v1", instanceId: "b" },
            { address: `127.0.0.1:${v2.port}`, version: "v2", instanceId: "c" },
          ],
          split: [
            { version: "v1", weight: 90 },
            { version: "v2", weight: 10 },
          ],
        },
      ]),
    });
    const N = 2000;
    const replies = await runConcurrent(N, 16, () => request({ port: agent.outbound, path: "/", headers: { host: "catalog" } }));
    const counts: Record<string, number> = {};
    for (const r of replies) {
      assert.equal(r.status, 200);
      const app = r.headers["x-app"] as string;
      counts[app] = (counts[app] ?? 0) + 1;
    }
    const v2Share = (counts.v2 ?? 0) / N;
    assert.ok(Math.abs(v2Share - 0.1) <= 0.03, `v2 got ${(v2Share * 100).toFixed(1)}% (counts ${JSON.stringify(counts)})`);
    // Inside the v1 subset both endpoints are used, and v2's endpoint is never chosen for a v1 call.
    assert.ok(v1a.requests.length > 0 && v1b.requests.length > 0, "balancing spreads over the subset");
    assert.equal(v1a.requests.length + v1b.requests.length, counts.v1);
    // The edge is reported per destination version.
    const { text } = await getText(agent.admin, "/metrics");
    assert.match(text, new RegExp(`destination_service="catalog",destination_version="v2",response_code="200"\\} ${counts.v2}$`, "m"));
    assert.match(text, new RegExp(`destination_service="catalog",destination_version="v1",response_code="200"\\} ${counts.v1}$`, "m"));
  });

  test("P2C skips an endpoint whose connections are refused; the caller never sees the refusal", async () => {
    const healthy = await startApp("healthy");
    const dead = await closedPort();
    const agent = await startAgent({
      service: "shop",
      appPort: 1,
      snapshot: snapshot("shop", [
        {
          name: "catalog",
          versions: ["v1"],
          endpoints: [
            { address: `127.0.0.1:${dead}`, version: "v1", instanceId: "dead" },
            { address: `127.0.0.1:${healthy.port}`, version: "v1", instanceId: "ok" },
          ],
        },
      ]),
    });
    const replies = await runConcurrent(60, 4, () => request({ port: agent.outbound, path: "/x", headers: { host: "catalog" } }));
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-trellis-error"], undefined);
    }
    assert.equal(healthy.requests.length, 60);
    const { text } = await getText(agent.admin, "/metrics");
    assert.doesNotMatch(text, /response_code="502"/);
  });

  test("P2C prefers the faster endpoint (in-flight × EWMA latency)", async () => {
    const fast = await startApp("fast");
    const slow = await startApp("slow", (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { "x-app": "slow" });
        res.end("slow");
      }, 40);
    });
    const agent = await startAgent({
      service: "shop",
      appPort: 1,
      snapshot: snapshot("shop", [
        {
          name: "catalog",
          versions: ["v1"],
          endpoints: [
            { address: `127.0.0.1:${fast.port}`, version: "v1", instanceId: "fast" },
            { address: `127.0.0.1:${slow.port}`, version: "v1", instanceId: "slow" },
          ],
        },
      ]),
    });
    await runConcurrent(300, 8, () => request({ port: agent.outbound, path: "/", headers: { host: "catalog" } }));
    const share = fast.requests.length / 300;
    assert.ok(share > 0.8, `fast endpoint got only ${(share * 100).toFixed(0)}% (round-robin would give 50%)`);
  });
  test("P2C counts failures against an endpoint: one answering 500 at once gets clearly less traffic than one answering 200 in 5 ms", async () => {
    const failing = await startApp("failing", (_req, res) => {
      res.writeHead(500, { "x-app": "failing" });
      res.end("no");
    });
    const healthy = await startApp("healthy", (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { "x-app": "healthy" });
        res.end("ok");
      }, 5);
    });
    const agent = await startAgent({
      service: "shop",
      appPort: 1,
      snapshot: snapshot("shop", [
        {
          name: "catalog",
          versions: ["v1"],
          loadBalancer: "p2c",
          endpoints: [
            { address: `127.0.0.1:${failing.port}`, version: "v1", instanceId: "failing" },
            { address: `127.0.0.1:${healthy.port}`, version: "v1", instanceId: "healthy" },
          ],
        },
      ]),
    });
    await runConcurrent(300, 4, () => request({ port: agent.outbound, path: "/", headers: { host: "catalog" } }));
    const share = failing.requests.length / 300;
    assert.ok(share < 0.25, `the failing endpoint got ${(share * 100).toFixed(0)}% of the calls (no retries, no outlier detection)`);
  });
});

/**
 * Retries of requests with bodies, through a real agent to a real app: bodies up to 64 KiB are kept and sent again
 * when the policy allows a retry; larger ones (known length or chunked) stream through once and are never retried.
 * The app resets the connection of the attempts it is told to, after reading the whole body.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { cleanup, request, sha256, snapshot, startAgent, startApp } from "./helpers.ts";

/** An app that resets the connection of its first `resets` requests and answers the others with the body's hash. */
async function resettingApp(resets: number) {
  let left = resets;
  return startApp("app", (req, res, body) => {
    if (left > 0) {
      left--;
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(sha256(body));
  });
}

async function agentTo(port: number) {
  return startAgent({
    service: "shop",
    appPort: 1,
    snapshot: snapshot("shop", [
      {
        name: "svc",
        versions: ["v1"],
        endpoints: [{ address: `127.0.0.1:${port}`, version: "v1", instanceId: "i-1" }],
        retries: { attempts: 2, retryOn: ["reset"], nonIdempotent: true, budget: { ratio: 1, minRetriesPerSecond: 100 } },
        // One reset must not eject the only endpoint.
        outlierDetection: { consecutive5xx: 0 },
      },
    ]),
  });
}

function post(port: number, body: Buffer, chunked: boolean) {
  const headers: Record<string, string> = { host: "svc", "content-type": "application/octet-stream" };
  if (chunked) headers["transfer-encoding"] = "chunked";
  return request({ port, path: "/orders", method: "POST", headers, body, keepAlive: false, timeoutMs: 15_000 });
}

describe("retries of requests with bodies", () => {
  after(cleanup);

  for (const chunked of [false, true]) {
    const kind = chunked ? "chunked" : "content-length";
    test(`a ${kind} POST of 60 KiB is retried after a connection reset, its body intact on the second attempt`, async () => {
      const app = await resettingApp(1);
      const agent = await agentTo(app.port);
      const body = randomBytes(60 * 1024);
      const r = await post(agent.outbound, body, chunked);
      assert.equal(r.status, 200, `${r.status} ${r.headers["x-trellis-error"] ?? ""} ${r.body.toString().slice(0, 120)}`);
      assert.equal(r.body.toString(), sha256(body), "the app hashed the same body the caller sent");
      assert.equal(app.requests.length, 2, "first attempt reset, second answered");
      for (const rec of app.requests) {
        assert.equal(rec.bodyLength, body.length);
        assert.equal(rec.bodySha, sha256(body), "every attempt carried the whole body");
      }
    });

    test(`a ${kind} POST of 1 MB is not retried: the app sees one attempt, the caller the proxy error`, async () => {
      const app = await resettingApp(1);
      const agent = await agentTo(app.port);
      const body = randomBytes(1024 * 1024);
      const r = await post(agent.outbound, body, chunked);
      assert.equal(r.status, 502);
      assert.equal(r.headers["x-trellis-error"], "upstream-reset");
      assert.equal(app.requests.length, 1, "never sent twice");
      assert.equal(app.requests[0].bodyLength, body.length, "streamed through whole");
      assert.equal(app.requests[0].bodySha, sha256(body));
      // The same call succeeds once the app stops resetting: a large body passes through intact.
      const ok = await post(agent.outbound, body, chunked);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.toString(), sha256(body));
    });
  }

  test("without a retry policy allowing it (POST, nonIdempotent false) a small body is not retried", async () => {
    const app = await resettingApp(1);
    const agent = await startAgent({
      service: "shop",
      appPort: 1,
      snapshot: snapshot("shop", [
        {
          name: "svc",
          versions: ["v1"],
          endpoints: [{ address: `127.0.0.1:${app.port}`, version: "v1", instanceId: "i-1" }],
          retries: { attempts: 2, retryOn: ["reset"], budget: { ratio: 1, minRetriesPerSecond: 100 } },
        },
      ]),
    });
    const r = await post(agent.outbound, Buffer.from("small"), false);
    assert.equal(r.status, 502);
    assert.equal(app.requests.length, 1);
  });
});

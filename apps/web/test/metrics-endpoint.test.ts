/**
 * Who may scrape the console's /metrics (server/metrics/endpoint.ts): loopback freely, anyone else only with a valid
 * API token. The integration test scrapes over loopback (tests/integration/console-metrics.test.ts); the remote cases
 * are driven here with requests whose peer is not loopback, which a test on 127.0.0.1 cannot open for real.
 */
import assert from "node:assert/strict";
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { test } from "node:test";
import { fromLoopback, serveMetrics } from "../server/metrics/endpoint.ts";
import type { SessionUser } from "../server/repositories/index.ts";

const source = { contentType: "text/plain; version=0.0.4; charset=utf-8", render: async () => "up 1\n" };
const viewerToken: SessionUser = { id: "t1", username: "token:prometheus", role: "viewer", kind: "token" };
const tokens = { userFor: async (value: string) => (value === "trl_good" ? viewerToken : null) };

function requestFrom(remoteAddress: string | undefined, headers: Record<string, string> = {}, method = "GET"): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: remoteAddress });
  const req = new IncomingMessage(socket);
  req.method = method;
  req.headers = headers;
  return req;
}

async function serve(req: IncomingMessage) {
  const out = { status: 0, headers: {} as Record<string, string>, body: "" };
  const res = {
    writeHead(status: number, headers: Record<string, string> = {}) {
      out.status = status;
      out.headers = headers;
      return res;
    },
    end(body?: string) {
      out.body = body ?? "";
    },
  };
  await serveMetrics(req, res as never, source, { tokens });
  return out;
}

test("loopback peers (IPv4, IPv6, IPv4-mapped) scrape without credentials", async () => {
  for (const address of ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(fromLoopback(requestFrom(address)), true, address);
    const out = await serve(requestFrom(address));
    assert.equal(out.status, 200, address);
    assert.equal(out.body, "up 1\n");
    assert.equal(out.headers["content-type"], source.contentType);
  }
});

test("other peers need a valid API token (any role)", async () => {
  for (const address of ["10.0.0.7", "::ffff:10.0.0.7", "2001:db8::1", undefined]) {
    assert.equal(fromLoopback(requestFrom(address)), false, String(address));
    const none = await serve(requestFrom(address));
    assert.equal(none.status, 401, String(address));
    assert.match(none.headers["www-authenticate"] ?? "", /^Bearer/);
    assert.doesNotMatch(none.body, /up 1/);
  }
  assert.equal((await serve(requestFrom("10.0.0.7", { authorization: "Bearer trl_bad" }))).status, 401);
  assert.equal((await serve(requestFrom("10.0.0.7", { cookie: "trellis_session=abc" }))).status, 401, "a session cookie is no substitute");
  const ok = await serve(requestFrom("10.0.0.7", { authorization: "Bearer trl_good" }));
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "up 1\n");
});

test("only GET and HEAD", async () => {
  assert.equal((await serve(requestFrom("127.0.0.1", {}, "POST"))).status, 405);
  const head = await serve(requestFrom("127.0.0.1", {}, "HEAD"));
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
});

/**
 * HTTP/1.1 between apps, HTTP/2 between agents (issue #10, scope 3), as linkerd2-proxy carries HTTP/1 between its
 * proxies: web's agent sends every HTTP/1.1 request over one multiplexed HTTP/2 connection per endpoint (mTLS STRICT,
 * ALPN h2) marked `x-trellis-orig-proto: HTTP/1.1`, and catalog's agent hands it to a plain node:http app as HTTP/1.1
 * again — with nothing lost: 20 MB bodies both ways, chunked bodies, HEAD, 100-continue, trailers, header values; a
 * destination agent that drains (SIGTERM) lets the request in flight finish.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, adminSession, type ConsoleHandle, type ConsoleSession, eventually, startConsole, stopAll } from "@trellis/testkit";
import { request, startStrictPair } from "../support/apps.ts";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodySha: string;
  bodyLength: number;
}

/**
 * The destination app (HTTP/1.1 only): `/echo` answers the body's length and hash, `/bytes/<n>` sends n pseudo-random
 * bytes chunked (seeded: the test recomputes them), `/trailers` a chunked body with trailers, `/slow/<ms>` answers
 * after that long.
 */
async function startApp() {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) {
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      httpVersion: req.httpVersion,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodySha: sha(body),
      bodyLength: body.length,
    });
    const url = req.url ?? "/";
    const bytes = /^\/bytes\/(\d+)$/.exec(url);
    if (bytes) {
      const data = seeded(Number(bytes[1]));
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (let off = 0; off < data.length; off += 256 * 1024) res.write(data.subarray(off, off + 256 * 1024));
      res.end();
      return;
    }
    if (url === "/trailers") {
      res.writeHead(200, { "content-type": "text/plain", trailer: "x-checksum, x-count" });
      res.write("part one;");
      res.write("part two");
      res.addTrailers({ "x-checksum": "abc123", "x-count": "2" });
      res.end();
      return;
    }
    const slow = /^\/slow\/(\d+)$/.exec(url);
    if (slow) {
      setTimeout(() => res.end("slow done"), Number(slow[1]));
      return;
    }
    const payload = JSON.stringify({ length: body.length, sha: sha(body) });
    res.setHeader("set-cookie", ["a=1; Path=/", "b=2; Path=/"]);
    res.setHeader("x-multi", "one, two,three");
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
    res.end(req.method === "HEAD" ? undefined : payload);
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, seen, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** One pseudo-random MiB, made once; `seeded` stamps each copy with its index (no two MiBs alike). */
const MIB = createHash("sha512")
  .update("seed")
  .digest()
  .toString("hex")
  .repeat(8192)
  .slice(0, 1 << 20);

/** n bytes, the same every time: large bodies whose every MiB differs, cheap to make twice. */
function seeded(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let off = 0, i = 0; off < n; off += 1 << 20, i++) {
    out.write(MIB, off, Math.min(1 << 20, n - off), "latin1");
    if (off + 8 <= n) out.writeDoubleBE(i, off);
  }
  return out;
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  trailers: NodeJS.Dict<string>;
  body: Buffer;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** An HTTP/1.1 request to web's agent's outbound port for catalog; `body` as chunks writes a chunked request. */
function call(port: number, method: string, path: string, body?: Buffer | Buffer[], headers: http.OutgoingHttpHeaders = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers: { host: "catalog", ...headers }, agent: keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          trailers: res.trailers,
          body: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    if (Array.isArray(body)) {
      for (const c of body) req.write(c);
      req.end();
    } else req.end(body);
  });
}

describe("HTTP/1.1 apps, HTTP/2 between agents (mTLS STRICT): nothing lost", { concurrency: false }, () => {
  let c: ConsoleHandle;
  let admin: ConsoleSession;
  let app: Awaited<ReturnType<typeof startApp>>;
  let webApp: Awaited<ReturnType<typeof startApp>>;
  let catalogAgent: AgentHandle;
  let webAgent: AgentHandle;

  before(async () => {
    c = await startConsole();
    admin = await adminSession(c.url);
    app = await startApp();
    webApp = await startApp();
    ({ destinationAgent: catalogAgent, callerAgent: webAgent } = await startStrictPair(c, admin, ["catalog", app.port], ["web", webApp.port]));
  });

  after(async () => {
    keepAlive.destroy();
    await stopAll();
    await app?.close();
    await webApp?.close();
  });

  test("50 concurrent calls share one HTTP/2 connection between the agents; the app gets HTTP/1.1 without the marker", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => call(webAgent.outbound, "GET", `/many/${i}`)));
    assert.ok(results.every((r) => r.status === 200));
    const metrics = (await request(catalogAgent.admin, "/metrics")).body.toString();
    assert.match(metrics, /^trellis_http2_connections\{listener="inbound"\} 1$/m);
    const seen = app.seen.filter((s) => s.url.startsWith("/many/"));
    assert.equal(seen.length, 50);
    for (const s of seen) {
      assert.equal(s.httpVersion, "1.1");
      assert.equal(s.headers["x-trellis-orig-proto"], undefined, "the marker stays between the agents");
      assert.match(String(s.headers["x-trellis-peer-identity"]), /\/service\/web$/, "mTLS hop");
    }
  });

  test("20 MB up and 20 MB down, intact (sha256)", async () => {
    const up = randomBytes(20 * 1024 * 1024);
    const r = await call(webAgent.outbound, "POST", "/echo", up, { "content-type": "application/octet-stream" });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), { length: up.length, sha: sha(up) });
    const down = await call(webAgent.outbound, "GET", `/bytes/${20 * 1024 * 1024}`);
    assert.equal(down.status, 200);
    assert.equal(down.body.length, 20 * 1024 * 1024);
    assert.equal(sha(down.body), sha(seeded(20 * 1024 * 1024)));
  });

  test("chunked request and response bodies intact; HEAD keeps content-length without a body", async () => {
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.from(`chunk ${i} `.repeat(100 + i)));
    const whole = Buffer.concat(parts);
    const r = await call(webAgent.outbound, "POST", "/echo", parts, { "transfer-encoding": "chunked" });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), { length: whole.length, sha: sha(whole) });
    const chunkedDown = await call(webAgent.outbound, "GET", "/bytes/1000000");
    assert.equal(chunkedDown.headers["transfer-encoding"], "chunked");
    assert.equal(sha(chunkedDown.body), sha(seeded(1_000_000)));

    const get = await call(webAgent.outbound, "GET", "/echo");
    const head = await call(webAgent.outbound, "HEAD", "/echo");
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers["content-length"], get.headers["content-length"]);
    assert.equal(app.seen.at(-1)?.method, "HEAD");
  });

  test("Expect: 100-continue: the client gets 100, sends its body, the app reads it", async () => {
    const body = Buffer.from("after the continue");
    const r = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = http.request({
        host: "127.0.0.1",
        port: webAgent.outbound,
        method: "POST",
        path: "/echo",
        headers: { host: "catalog", expect: "100-continue", "content-length": body.length },
      });
      req.on("continue", () => {
        continued = true;
        req.end(body);
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, continued, body: text }));
      });
      req.on("error", reject);
      req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    });
    assert.equal(r.continued, true);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { length: body.length, sha: sha(body) });
  });

  test("response trailers cross the HTTP/2 hop", async () => {
    const r = await call(webAgent.outbound, "GET", "/trailers");
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "part one;part two");
    assert.deepEqual({ checksum: r.trailers["x-checksum"], count: r.trailers["x-count"] }, { checksum: "abc123", count: "2" });
  });

  test("header values both ways: repeated headers, commas, spaces, case-insensitive names", async () => {
    const r = await call(webAgent.outbound, "GET", "/echo?q=a%20b&x=1", undefined, {
      "X-Request-Value": "  spaced  value, with, commas ",
      accept: ["text/plain", "application/json"],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers["set-cookie"], ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal(r.headers["x-multi"], "one, two,three");
    const s = app.seen.at(-1)!;
    assert.equal(s.url, "/echo?q=a%20b&x=1");
    assert.equal(s.headers["x-request-value"], "spaced  value, with, commas");
    assert.equal(s.headers.accept, "text/plain, application/json");
    assert.equal(s.headers.host, "catalog");
  });

  test("a draining destination agent (SIGTERM) lets the request in flight finish", async () => {
    const slow = call(webAgent.outbound, "GET", "/slow/500");
    await eventually(async () => app.seen.some((s) => s.url === "/slow/500"), 5_000, "the slow call reached the app");
    const stopped = catalogAgent.stop(5_000);
    const r = await slow;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "slow done");
    assert.equal(await stopped, 0);
  });
});

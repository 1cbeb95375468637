/**
 * The request path end to end with real processes: app client → agent A outbound → agent B inbound → app B.
 * Both agents start from a persisted snapshot in their state dir (no console).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { type AgentProc, cleanup, getText, request, sha256, snapshot, startAgent, startApp, type TestApp, within } from "./helpers.ts";

const RESPONSE_BODY = randomBytes(1024 * 1024);
let foreverClosed: () => void = () => {};

describe("two-hop data path", () => {
  let appB: TestApp;
  let appA: TestApp;
  let agentA: AgentProc;
  let agentB: AgentProc;

  before(async () => {
    appB = await startApp("catalog", (req, res, _body, rec) => {
      if (req.url?.startsWith("/echo")) {
        res.writeHead(201, [
          "content-type",
          "application/octet-stream",
          "x-request-sha",
          rec.bodySha,
          "x-request-length",
          String(rec.bodyLength),
          "x-seen-headers",
          JSON.stringify(rec.rawHeaders),
          "x-seen-url",
          rec.url,
          "x-seen-method",
          rec.method,
          "set-cookie",
          "a=1",
          "set-cookie",
          "b=2",
        ]);
        res.end(RESPONSE_BODY);
        return;
      }
      if (req.url === "/big") {
        // 20 MB in 64 KB chunks, honouring backpressure.
        const chunk = Buffer.alloc(64 * 1024, 7);
        let left = 320;
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const pump = () => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
        return;
      }
      if (req.url === "/forever") {
        res.writeHead(200, { "content-type": "text/plain" });
        const t = setInterval(() => res.write("tick\n"), 20);
        res.on("close", () => {
          clearInterval(t);
          foreverClosed();
        });
        return;
      }
      res.writeHead(200, { "content-type": "text/plain", "x-app": "catalog" });
      res.end("catalog ok");
    });
    appA = await startApp("shop");
    agentB = await startAgent({
      service: "catalog",
      appPort: appB.port,
      snapshot: snapshot("catalog", [{ name: "catalog", versions: ["v1"], endpoints: [] }]),
    });
    agentA = await startAgent({
      service: "shop",
      appPort: appA.port,
      snapshot: snapshot("shop", [
        { name: "shop", versions: ["v1"], endpoints: [] },
        { name: "catalog", versions: ["v1"], endpoints: [{ address: `127.0.0.1:${agentB.inbound}`, version: "v1", instanceId: "catalog-1" }] },
      ]),
    });
  });
  after(cleanup);

  async function checkIntact(path: string, headers: Record<string, string | string[]>) {
    const body = randomBytes(1024 * 1024);
    const r = await request({
      port: agentA.outbound,
      path,
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/octet-stream",
        "x-custom": "hello",
        "x-multi": ["one", "two"],
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate: "congo=t61rcWkgMzE",
        b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
        "x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
        "proxy-authorization": "Basic c2VjcmV0",
        connection: "keep-alive, x-hop",
        "x-hop": "must-not-pass",
      },
      body,
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers["x-seen-method"], "POST");
    assert.equal(r.headers["x-seen-url"], "/echo/items?q=1&tag=a%20b");
    assert.equal(r.headers["x-request-length"], String(body.length));
    assert.equal(r.headers["x-request-sha"], sha256(body), "request body arrived intact");
    assert.equal(r.body.length, RESPONSE_BODY.length);
    assert.equal(sha256(r.body), sha256(RESPONSE_BODY), "response body arrived intact");
    assert.deepEqual(r.headers["set-cookie"], ["a=1", "b=2"]);
    const seen = JSON.parse(r.headers["x-seen-headers"] as string) as string[];
    const values = (name: string) => {
      const out: string[] = [];
      for (let i = 0; i < seen.length; i += 2) if (seen[i].toLowerCase() === name) out.push(seen[i + 1]);
      return out;
    };
    assert.deepEqual(values("x-custom"), ["hello"]);
    assert.deepEqual(values("x-multi"), ["one", "two"]);
    // The trace continues: same trace id and flags; the parent becomes the agents' span (client span, then server span).
    const tp = values("traceparent");
    assert.equal(tp.length, 1);
    assert.match(tp[0], /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    assert.notEqual(tp[0], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert.deepEqual(values("tracestate"), ["congo=t61rcWkgMzE"]);
    assert.deepEqual(values("b3"), ["80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"]);
    assert.deepEqual(values("x-b3-traceid"), ["80f198ee56343ba864fe8b2a57d3eff7"]);
    assert.deepEqual(values("x-trellis-source"), ["shop/v1"]);
    assert.deepEqual(values("proxy-authorization"), [], "proxy-authorization is hop-by-hop");
    assert.deepEqual(values("x-hop"), [], "headers nominated by Connection are hop-by-hop");
    assert.equal(values("host").length, 1);
    return values("host")[0];
  }

  test("absolute-form proxy request arrives intact (method, path, query, headers, 1 MB bodies both ways)", async () => {
    const host = await checkIntact("http://catalog/echo/items?q=1&tag=a%20b", { host: "catalog" });
    assert.equal(host, "catalog");
  });

  test("origin-form request with Host: catalog:<port> arrives intact (port in Host ignored)", async () => {
    const host = await checkIntact("/echo/items?q=1&tag=a%20b", { host: "catalog:8080" });
    assert.equal(host, "catalog:8080");
  });

  test("the app cannot spoof x-trellis-source", async () => {
    const r = await request({ port: agentA.outbound, path: "/echo/x", headers: { host: "catalog", "x-trellis-source": "admin/v9" } });
    const seen = JSON.parse(r.headers["x-seen-headers"] as string) as string[];
    const sources = seen.filter((_, i) => i % 2 === 1 && seen[i - 1].toLowerCase() === "x-trellis-source");
    assert.deepEqual(sources, ["shop/v1"]);
  });

  test("HEAD and chunked request bodies pass", async () => {
    const head = await request({ port: agentA.outbound, path: "/", method: "HEAD", headers: { host: "catalog" } });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    const body = randomBytes(300_000);
    const r = await request({
      port: agentA.outbound,
      path: "/echo/c",
      method: "PUT",
      headers: { host: "catalog", "transfer-encoding": "chunked" },
      body,
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers["x-request-sha"], sha256(body));
  });

  test("a slow reader gets a 20 MB body intact (backpressure end to end)", async () => {
    const got = await within(
      new Promise<number>((resolve, reject) => {
        http.get({ host: "127.0.0.1", port: agentA.outbound, path: "/big", headers: { host: "catalog" }, agent: false }, (res) => {
          let n = 0;
          let chunks = 0;
          res.on("data", (c: Buffer) => {
            n += c.length;
            if (++chunks % 50 === 0) {
              res.pause();
              setTimeout(() => res.resume(), 5);
            }
          });
          res.on("end", () => resolve(n));
          res.on("error", reject);
        });
      }),
      20_000,
      "20 MB body",
    );
    assert.equal(got, 320 * 64 * 1024);
  });

  test("a client hanging up mid-response aborts the upstream call through both agents (recorded as 499)", async () => {
    const closed = new Promise<void>((r) => (foreverClosed = r));
    await within(
      new Promise<void>((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port: agentA.outbound, path: "/forever", headers: { host: "catalog" }, agent: false }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.on("error", () => {});
        req.on("timeout", reject);
      }),
      5_000,
      "first chunk",
    );
    await within(closed, 5_000, "upstream app to see the hang-up");
    const { text } = await getText(agentA.admin, "/metrics");
    assert.match(text, /destination_service="catalog",destination_version="v1",response_code="499"\} 1$/m);
    assert.match((await request({ port: agentA.outbound, path: "/", headers: { host: "catalog" } })).body.toString(), /catalog ok/);
  });

  test("edges are reported once: by the caller's agent for mesh calls, by the receiving agent for ingress", async () => {
    const before = await getText(agentB.admin, "/metrics");
    const direct = await request({ port: agentB.inbound, path: "/", headers: { host: "catalog" } });
    assert.equal(direct.status, 200);
    const a = (await getText(agentA.admin, "/metrics")).text;
    const b = (await getText(agentB.admin, "/metrics")).text;
    assert.match(
      a,
      /^requests_total\{source_service="shop",source_version="v1",destination_service="catalog",destination_version="v1",response_code="201"\} [1-9]\d*$/m,
    );
    assert.match(
      a,
      /^request_duration_seconds_count\{source_service="shop",source_version="v1",destination_service="catalog",destination_version="v1"\} [1-9]\d*$/m,
    );
    assert.doesNotMatch(b, /source_service="shop"/, "the receiving agent must not report mesh edges");
    assert.match(
      b,
      /^requests_total\{source_service="ingress",source_version="unknown",destination_service="catalog",destination_version="v1",response_code="200"\} 1$/m,
    );
    assert.doesNotMatch(before.text, /source_service="ingress"/);
  });

  test("/metrics passes promtool check metrics", async () => {
    assert.ok(existsSync("/usr/bin/promtool"), "promtool is required (apt-get install prometheus; .ci/run installs it)");
    const { text } = await getText(agentA.admin, "/metrics");
    assert.match(text, /# TYPE requests_total counter/);
    assert.match(text, /# TYPE request_duration_seconds histogram/);
    assert.match(text, /^request_duration_seconds_bucket\{.*le="\+Inf"\} \d+$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
    assert.match(text, /^process_cpu_seconds_total [\d.e-]+$/m);
    assert.match(text, /^trellis_config_version 1$/m);
    assert.match(text, /^trellis_control_connected 0$/m);
    const out = execFileSync("/usr/bin/promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(out.trim(), "");
  });
});

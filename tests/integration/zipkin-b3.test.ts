/**
 * B3 in, Zipkin out, with real processes: a request that carries only B3 headers enters web's agent; web's app calls
 * catalog through its agent. Every hop's span continues the B3 trace, and the console exports them in Zipkin v2 JSON
 * to a collector in this test.
 *
 *   test (b3 only) --> agent(web) --> web app --> agent(web) out --> agent(catalog) --> catalog app
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, type ConsoleHandle, ConsoleSession, eventually, startConsole, stopAll } from "@trellis/testkit";
import { request, startShopService } from "../support/apps.ts";

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: string;
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string };
  remoteEndpoint?: { serviceName: string };
  tags: Record<string, string>;
}

describe("B3 context continued, spans exported to Zipkin", () => {
  let c: ConsoleHandle;
  let session: ConsoleSession;
  const agents: Record<string, AgentHandle> = {};
  let collector: http.Server;
  const posts: { url: string; method: string; contentType: string; spans: ZipkinSpan[] }[] = [];

  before(async () => {
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        posts.push({
          url: req.url ?? "",
          method: req.method ?? "",
          contentType: String(req.headers["content-type"]),
          spans: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    c = await startConsole({
      env: { TRELLIS_ZIPKIN_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, TRELLIS_SPAN_FLUSH_MS: "200" },
    });
    session = await ConsoleSession.signIn(c.url);
    for (const name of ["catalog", "web"]) agents[name] = (await startShopService(c, name)).agent;
    await session.mutate("telemetry.setPolicy", { sampleRate: 0, slowThresholdMs: 10_000, slowThresholdMsByService: {} });
    await eventually(
      async () => {
        const cfg = JSON.parse((await request(agents.web.admin, "/config")).body.toString());
        const catalog = cfg.snapshot?.services.find((s: { name: string }) => s.name === "catalog");
        return cfg.snapshot?.telemetry?.sampleRate === 0 && catalog?.endpoints.length > 0;
      },
      15_000,
      "web's agent has sampleRate 0 and knows catalog's endpoint",
    );
  });

  after(async () => {
    await stopAll();
    await new Promise((r) => collector?.close(r));
  });

  function exported(traceId: string): ZipkinSpan[] {
    return posts.flatMap((p) => p.spans.filter((s) => s.traceId === traceId));
  }

  async function traceOf(traceId: string): Promise<ZipkinSpan[]> {
    return eventually(
      async () => {
        const spans = exported(traceId);
        const has = (kind: string, service: string) => spans.some((s) => s.kind === kind && s.localEndpoint.serviceName === service);
        return has("SERVER", "web") && has("CLIENT", "web") && has("SERVER", "catalog") ? spans : null;
      },
      15_000,
      `the collector receives web's and catalog's spans of ${traceId}`,
    );
  }

  test("a single b3 header (64-bit trace id, sampled): both hops continue the trace, Zipkin v2 JSON received", async () => {
    const trace64 = randomBytes(8).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const before = Date.now();
    const res = await request(agents.web.inbound, "/products", { headers: { accept: "application/json", b3: `${trace64}-${callerSpan}-1` } });
    assert.equal(res.status, 200, res.body.toString());
    const traceId = `0000000000000000${trace64}`;
    const spans = await traceOf(traceId);
    assert.ok(posts.every((p) => p.method === "POST" && p.url === "/api/v2/spans" && p.contentType.startsWith("application/json")));
    const one = (kind: string, service: string) => {
      const found = spans.filter((s) => s.kind === kind && s.localEndpoint.serviceName === service);
      assert.equal(found.length, 1, `one ${kind} span of ${service}`);
      return found[0];
    };
    const webServer = one("SERVER", "web");
    const webClient = one("CLIENT", "web");
    const catalogServer = one("SERVER", "catalog");
    assert.equal(webServer.parentId, callerSpan, "the first hop's parent is the B3 caller's span");
    assert.equal(webClient.parentId, webServer.id);
    assert.equal(catalogServer.parentId, webClient.id);
    assert.equal(webServer.remoteEndpoint?.serviceName, "ingress");
    assert.equal(webClient.remoteEndpoint?.serviceName, "catalog");
    assert.equal(catalogServer.remoteEndpoint?.serviceName, "web");
    // (catalog's own call to inventory, absent here, is in the trace too: a failed client span)
    for (const s of [webServer, webClient, catalogServer]) {
      assert.match(s.id, /^[0-9a-f]{16}$/);
      assert.ok(Number.isInteger(s.timestamp) && Number.isInteger(s.duration) && s.duration >= 1, "integer µs");
      assert.ok(s.timestamp >= (before - 5_000) * 1000 && s.timestamp <= (Date.now() + 5_000) * 1000, `timestamp in µs: ${s.timestamp}`);
      assert.equal(s.tags["http.status_code"], "200");
      assert.equal(s.tags["trellis.kept"], "sampled", "the caller's sampling decision (rate 0 locally)");
    }
    assert.equal(webClient.tags["trellis.route"], "catalog");
    assert.equal(webClient.tags["http.method"], "GET");
  });

  test("multi x-b3-* headers (128-bit trace id): both hops continue the trace", async () => {
    const traceId = randomBytes(16).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const res = await request(agents.web.inbound, "/products", {
      headers: { accept: "application/json", "x-b3-traceid": traceId, "x-b3-spanid": callerSpan, "x-b3-sampled": "1" },
    });
    assert.equal(res.status, 200, res.body.toString());
    const spans = await traceOf(traceId);
    const webServer = spans.find((s) => s.kind === "SERVER" && s.localEndpoint.serviceName === "web")!;
    assert.equal(webServer.parentId, callerSpan);
    const catalogServer = spans.find((s) => s.kind === "SERVER" && s.localEndpoint.serviceName === "catalog")!;
    assert.ok(spans.some((s) => s.kind === "CLIENT" && s.id === catalogServer.parentId));
  });
});

/**
 * Tracing end to end with real processes: the console (exporting over OTLP/HTTP to a receiver in this test), the
 * shop's real web, cart, catalog and inventory services, each behind its own agent.
 *
 *   test --> agent(web) --> web app --> agent(web) out --> agent(cart) --> cart app --> agent(cart) out --> agent(inventory) --> inventory app
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type ConsoleHandle, ConsoleSession, eventually, FakeAgent, freePort, startConsole, stopAll } from "@trellis/testkit";
import { request, type ShopService, startShopService } from "../support/apps.ts";

interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  kind: string;
  service: string;
  peerService: string | null;
  startUnixMs: number;
  durationMs: number;
  status: number;
  error: string | null;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
}

function traceparent(traceId: string, sampled: boolean): string {
  return `00-${traceId}-${randomBytes(8).toString("hex")}-${sampled ? "01" : "00"}`;
}

describe("request traces through the mesh", () => {
  let c: ConsoleHandle;
  let session: ConsoleSession;
  const svc: Record<string, ShopService> = {};
  let receiver: http.Server;
  const otlpBodies: { url: string; contentType: string; body: unknown }[] = [];
  let fakeAgent: FakeAgent | null = null;

  async function agentsHaveSampleRate(rate: number) {
    await eventually(
      async () => {
        for (const s of Object.values(svc)) {
          const cfg = JSON.parse((await request(s.agent.admin, "/config")).body.toString());
          if (cfg.snapshot?.telemetry?.sampleRate !== rate) return false;
        }
        return true;
      },
      15_000,
      `every agent applies sampleRate ${rate}`,
    );
  }

  async function trace(traceId: string, until: (spans: StoredSpan[]) => boolean, what: string): Promise<StoredSpan[]> {
    return eventually(
      async () => {
        const t = await session.query<{ spans: StoredSpan[] }>("traces.get", { traceId });
        return until(t.spans) ? t.spans : null;
      },
      15_000,
      what,
    );
  }

  function addItem(traceId: string | null, sampled = true, cartId = `c-${randomBytes(6).toString("hex")}`) {
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json", accept: "application/json" };
    if (traceId) headers.traceparent = traceparent(traceId, sampled);
    return request(svc.web.agent.inbound, "/cart/items", { method: "POST", headers, body: JSON.stringify({ productId: "p-100", qty: 1, cartId }) });
  }

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        otlpBodies.push({
          url: req.url ?? "",
          contentType: String(req.headers["content-type"]),
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    c = await startConsole({
      env: { TRELLIS_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`, TRELLIS_SPAN_FLUSH_MS: "200" },
    });
    session = await ConsoleSession.signIn(c.url);
    for (const name of ["inventory", "catalog", "cart", "web"]) svc[name] = await startShopService(c, name);
    await session.mutate("telemetry.setPolicy", { sampleRate: 1, slowThresholdMs: 1000, slowThresholdMsByService: {} });
    await agentsHaveSampleRate(1);
    // Every agent knows every endpoint before the first call.
    await eventually(
      async () => {
        const cfg = JSON.parse((await request(svc.web.agent.admin, "/config")).body.toString());
        return ["cart", "inventory", "catalog"].every((n) => cfg.snapshot.services.find((s: { name: string }) => s.name === n)?.endpoints.length > 0);
      },
      10_000,
      "web's agent knows cart, catalog and inventory endpoints",
    );
  });

  after(async () => {
    fakeAgent?.terminate();
    await stopAll();
    await new Promise((r) => receiver?.close(r));
  });

  test("web → cart → inventory is one trace: a client and a server span per hop, linked, timings nested", async () => {
    const traceId = randomBytes(16).toString("hex");
    const res = await addItem(traceId);
    assert.equal(res.status, 201, res.body.toString());
    // Each agent ships its spans in its own telemetry frame: wait for all five hops.
    const hops: [string, string, string][] = [
      ["server", "web", "ingress"],
      ["client", "web", "cart"],
      ["server", "cart", "web"],
      ["client", "cart", "inventory"],
      ["server", "inventory", "cart"],
    ];
    const spans = await trace(
      traceId,
      (s) => hops.every(([kind, service, peer]) => s.some((x) => x.kind === kind && x.service === service && x.peerService === peer)),
      "every hop's spans reach the console",
    );
    assert.ok(spans.every((s) => s.traceId === traceId));
    const one = (kind: string, service: string, peer?: string) => {
      const found = spans.filter((s) => s.kind === kind && s.service === service && (peer === undefined || s.peerService === peer));
      assert.equal(
        found.length,
        1,
        `exactly one ${kind} span of ${service}${peer ? ` → ${peer}` : ""}: ${JSON.stringify(spans.map((s) => [s.kind, s.service, s.peerService]))}`,
      );
      return found[0];
    };
    const webServer = one("server", "web");
    const webToCart = one("client", "web", "cart");
    const cartServer = one("server", "cart", "web");
    const cartToInventory = one("client", "cart", "inventory");
    const inventoryServer = one("server", "inventory", "cart");
    // Parent/child: each hop's server span is the child of the caller's client span, and the app's next call
    // (carrying the traceparent its agent gave it) is the child of that server span.
    assert.equal(webServer.peerService, "ingress");
    assert.ok(webServer.parentSpanId, "the web server span continues the caller's traceparent");
    assert.equal(webToCart.parentSpanId, webServer.spanId);
    assert.equal(cartServer.parentSpanId, webToCart.spanId);
    assert.equal(cartToInventory.parentSpanId, cartServer.spanId);
    assert.equal(inventoryServer.parentSpanId, cartToInventory.spanId);
    // Timings nest (one machine, one clock; 2 ms slack for the clock origin of each process). A child starts after
    // its parent (causal: the request reaches it afterwards). Its end is stamped when its agent's event loop sees the
    // response finished, which on a busy machine can come after the parent already relayed the bytes: ends get the
    // slack of one scheduling delay, not a physical bound.
    const slack = 2;
    const schedulingSlack = 100;
    const chain = [webServer, webToCart, cartServer, cartToInventory, inventoryServer];
    for (let i = 1; i < chain.length; i++) {
      const parent = chain[i - 1];
      const child = chain[i];
      assert.ok(child.startUnixMs >= parent.startUnixMs - slack, `${child.kind} ${child.service} starts inside its parent`);
      assert.ok(
        child.startUnixMs + child.durationMs <= parent.startUnixMs + parent.durationMs + schedulingSlack,
        `${child.kind} ${child.service} ends inside its parent`,
      );
    }
    // Attributes of a hop.
    assert.equal(webToCart.status, 201);
    assert.equal(webToCart.attributes["trellis.route"], "cart");
    assert.equal(webToCart.attributes["trellis.destination_version"], "v1");
    assert.equal(webToCart.attributes["trellis.attempts"], 1);
    assert.equal(webToCart.attributes["trellis.mtls"], true, "mTLS by default: cart is PERMISSIVE, so web calls it over mTLS");
    assert.equal(webToCart.events.length, 1);
    assert.equal(webToCart.events[0].name, "attempt");
  });

  test("a retried call shows its attempts (a refused endpoint, retried by the balancer)", async () => {
    // A registered inventory instance whose address refuses connections.
    const dead = await freePort();
    fakeAgent = await new FakeAgent(c.wsUrl, {
      token: c.token,
      service: "inventory",
      instanceId: "inventory-v1-dead",
      address: `127.0.0.1:${dead}`,
    }).connect();
    await eventually(
      async () => {
        const cfg = JSON.parse((await request(svc.cart.agent.admin, "/config")).body.toString());
        return cfg.snapshot.services.find((s: { name: string }) => s.name === "inventory")?.endpoints.length === 2;
      },
      10_000,
      "cart's agent lists the refusing inventory endpoint",
    );
    let retried: StoredSpan | undefined;
    for (let i = 0; i < 40 && !retried; i++) {
      const traceId = randomBytes(16).toString("hex");
      const res = await addItem(traceId);
      assert.equal(res.status, 201, `call ${i} succeeds despite the refusing endpoint: ${res.body.toString()}`);
      const spans = await trace(
        traceId,
        (s) => s.some((x) => x.kind === "client" && x.service === "cart" && x.peerService === "inventory"),
        "cart → inventory span",
      );
      // (the cart agent records the client span whatever the other agents' frames did)
      retried = spans.find(
        (x) => x.kind === "client" && x.service === "cart" && x.peerService === "inventory" && Number(x.attributes["trellis.attempts"]) >= 2,
      );
      // An ejected endpoint is skipped for 1 s: give it time to come back.
      if (!retried) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(retried, "within 40 calls one cart → inventory call was retried");
    assert.equal(retried.status, 201);
    assert.equal(retried.attributes["trellis.retries"], Number(retried.attributes["trellis.attempts"]) - 1);
    const attempts = retried.events.filter((e) => e.name === "attempt");
    assert.equal(attempts.length, retried.attributes["trellis.attempts"]);
    assert.equal(attempts[0].attributes.error, "upstream-connect-refused");
    assert.equal(attempts[0].attributes.endpoint, `127.0.0.1:${dead}`);
    assert.equal(attempts.at(-1)!.attributes.status, 201);
    fakeAgent.terminate();
    fakeAgent = null;
  });

  test("spans are exported over OTLP/HTTP with their ids and attributes", async () => {
    const traceId = randomBytes(16).toString("hex");
    assert.equal((await addItem(traceId)).status, 201);
    const stored = await trace(
      traceId,
      (s) =>
        ["web", "cart", "inventory"].every((svcName) => s.some((x) => x.kind === "server" && x.service === svcName)) &&
        s.some((x) => x.kind === "client" && x.service === "web"),
      "trace stored",
    );
    type OtlpSpan = {
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      kind: number;
      attributes: { key: string; value: Record<string, unknown> }[];
    };
    const exported = await eventually(
      async () => {
        const found: { service: string; span: OtlpSpan }[] = [];
        for (const b of otlpBodies) {
          const body = b.body as {
            resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
          };
          for (const rs of body.resourceSpans) {
            const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
            for (const ss of rs.scopeSpans) for (const s of ss.spans) if (s.traceId === traceId) found.push({ service, span: s });
          }
        }
        return found.length >= stored.length ? found : null;
      },
      10_000,
      "the receiver gets every span of the trace",
    );
    assert.ok(otlpBodies.every((b) => b.url === "/v1/traces" && b.contentType.startsWith("application/json")));
    for (const s of stored) {
      const e = exported.find((x) => x.span.spanId === s.spanId);
      assert.ok(e, `span ${s.spanId} exported`);
      assert.equal(e.service, s.service);
      assert.equal(e.span.parentSpanId ?? null, s.parentSpanId);
      assert.equal(e.span.kind, s.kind === "server" ? 2 : 3);
      const attr = (k: string) => e.span.attributes.find((a) => a.key === k)?.value;
      assert.deepEqual(attr("http.status_code"), { intValue: String(s.status) });
    }
    const client = exported.find((x) => x.service === "web" && x.span.kind === 3)!;
    assert.deepEqual(client.span.attributes.find((a) => a.key === "trellis.route")?.value, { stringValue: "cart" });
  });

  test("with head sampling at 1%, every failed request's trace is still stored", async () => {
    await session.mutate("telemetry.setPolicy", { sampleRate: 0.01, slowThresholdMs: 10_000, slowThresholdMsByService: {} });
    await agentsHaveSampleRate(0.01);
    // Inventory's app goes away: adding to a cart now fails (502) at every hop; browsing the cart still works.
    await svc.inventory.app.stop();
    const since = Date.now();
    const failedIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const traceId = randomBytes(16).toString("hex");
      const res = await addItem(traceId, false); // the caller decided "not sampled"
      assert.ok(res.status >= 500, `call ${i} fails: ${res.status}`);
      failedIds.push(traceId);
    }
    let failedWithoutContext = 0;
    for (let i = 0; i < 20; i++) {
      const res = await addItem(null); // no traceparent: the web agent starts the trace and samples at 1%
      assert.ok(res.status >= 500);
      failedWithoutContext++;
    }
    let ok = 0;
    for (let i = 0; i < 150; i++) {
      const res = await request(svc.web.agent.inbound, "/cart?cartId=c-sampling-probe", { headers: { accept: "application/json" } });
      assert.equal(res.status, 200, res.body.toString());
      ok++;
    }
    for (const id of failedIds) {
      const spans = await trace(id, (s) => s.some((x) => x.service === "web" && x.kind === "server"), `failed trace ${id}`);
      const web = spans.find((x) => x.service === "web" && x.kind === "server")!;
      assert.ok(web.status >= 500 && web.error, "the web hop is stored as failed");
      assert.equal(web.attributes["trellis.kept"], "error");
      assert.ok(
        spans.some((x) => x.service === "inventory" || x.error === "app-unavailable" || x.peerService === "inventory"),
        "the failing hop is in the trace",
      );
    }
    // Every failed request without trace context is stored too: one failed web server span per request.
    const sinceSeconds = Math.max(10, Math.ceil((Date.now() - since) / 1000) + 5);
    const failedStored = await eventually(
      async () => {
        const page = await session.query<{ traces: { matched: { kind: string } }[] }>("traces.search", {
          service: "web",
          errorsOnly: true,
          sinceSeconds,
          limit: 100,
        });
        const n = page.traces.length;
        return n >= failedIds.length + failedWithoutContext ? n : null;
      },
      10_000,
      `${failedIds.length + failedWithoutContext} failed traces stored`,
    );
    assert.equal(failedStored, failedIds.length + failedWithoutContext);
    // …while successful requests were head-sampled at 1% (expected ~1.5 of 150).
    const all = await session.query<{ traces: { matched: { status: number } }[] }>("traces.search", { service: "web", sinceSeconds, limit: 100 });
    const okStored = all.traces.filter((t) => t.matched.status < 400).length;
    assert.ok(okStored <= 15, `at most 15 of ${ok} successful requests stored at 1% (got ${okStored})`);
  });
});

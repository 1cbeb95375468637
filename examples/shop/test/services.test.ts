/**
 * The services wired together in-process through a stand-in proxy that plays every agent's outbound listener: it
 * records each proxied request (absolute-form target, Host, headers) and routes by hostname. Checks the HTTP
 * contracts between services, the failure mapping, and that trace headers travel along every hop.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { prng } from "../src/loadmix.ts";
import type { Router } from "../src/runtime/http.ts";
import { MeshClient } from "../src/runtime/mesh-client.ts";
import { cartRouter } from "../src/services/cart.ts";
import { catalogRouter } from "../src/services/catalog.ts";
import { defaultStock, Inventory, inventoryRouter } from "../src/services/inventory.ts";
import { DECLINED_CARD, PaymentProcessor, paymentsRouter } from "../src/services/payments.ts";
import { recommendationsRouter } from "../src/services/recommendations.ts";
import { reviewsRouter } from "../src/services/reviews.ts";
import { TEST_CARD, webRouter } from "../src/services/web.ts";

interface Seen {
  url: string;
  host: string | undefined;
  headers: http.IncomingHttpHeaders;
}

const servers: http.Server[] = [];
const clients: MeshClient[] = [];
const ports = new Map<string, number>();
const seen: Seen[] = [];
let proxyPort = 0;
let webPort = 0;

function listen(server: http.Server): Promise<number> {
  servers.push(server);
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r((server.address() as AddressInfo).port)));
}

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the shop's own API, asserted field by field
  return new Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: "127.0.0.1",
        port: webPort,
        method,
        path,
        headers: { accept: "application/json", ...(payload ? { "content-type": "application/json" } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, body: text.startsWith("{") ? JSON.parse(text) : text, headers: res.headers });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

before(async () => {
  // The stand-in outbound proxy.
  proxyPort = await listen(
    http.createServer((req, res) => {
      seen.push({ url: req.url!, host: req.headers.host, headers: req.headers });
      const target = new URL(req.url!); // must be absolute-form
      const port = ports.get(target.hostname);
      if (!port) {
        res.writeHead(503, { "x-trellis-error": "no-healthy-endpoints" });
        return res.end();
      }
      const up = http.request({ host: "127.0.0.1", port, method: req.method, path: target.pathname + target.search, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    }),
  );
  const mk = (): MeshClient => {
    const c = new MeshClient({ outboundPort: proxyPort });
    clients.push(c);
    return c;
  };
  const routers: Record<string, Router> = {
    catalog: catalogRouter(mk()),
    inventory: inventoryRouter(new Inventory({ ...defaultStock(), "p-403": 2 })),
    cart: cartRouter(mk()),
    payments: paymentsRouter(new PaymentProcessor("v1", undefined, prng(1))),
    recommendations: recommendationsRouter(mk()),
    reviews: reviewsRouter(),
  };
  for (const [name, router] of Object.entries(routers)) ports.set(name, await listen(http.createServer(router.listener())));
  webPort = await listen(http.createServer(webRouter(mk()).listener()));
});

after(() => {
  for (const c of clients) c.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

describe("shop services through a proxy", () => {
  test("calls go out in absolute form with the service as Host", async () => {
    seen.length = 0;
    const res = await call("GET", "/products");
    assert.equal(res.status, 200);
    assert.equal(res.body.products.length, 12);
    assert.equal(res.body.stockKnown, true);
    assert.deepEqual(
      seen.map((s) => [new URL(s.url).host, s.host]),
      [
        ["catalog", "catalog"],
        ["inventory", "inventory"],
      ],
    );
  });

  test("trace headers are forwarded on every hop, other headers are not", async () => {
    seen.length = 0;
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const res = await call(
      "POST",
      "/cart/items",
      { productId: "p-100", qty: 1 },
      { traceparent, tracestate: "t=1", "x-b3-traceid": "abc", b3: "abc-def-1", cookie: "secret=1", "x-cart-id": "trace-cart" },
    );
    assert.equal(res.status, 201);
    // web -> cart, cart -> catalog, catalog -> inventory, cart -> inventory
    assert.equal(seen.length, 4, seen.map((s) => s.url).join(" "));
    for (const s of seen) {
      assert.equal(s.headers.traceparent, traceparent, s.url);
      assert.equal(s.headers.tracestate, "t=1");
      assert.equal(s.headers["x-b3-traceid"], "abc");
      assert.equal(s.headers.b3, "abc-def-1");
      assert.equal(s.headers.cookie, undefined);
    }
  });

  test("the storefront page is HTML for browsers", async () => {
    const res = await call("GET", "/", undefined, { accept: "text/html" });
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"]!, /text\/html/);
    assert.match(res.body, /Trellis Outfitters/);
  });

  test("product page joins catalog, recommendations and reviews; degrades without recommendations", async () => {
    const ok = await call("GET", "/products/p-100");
    assert.equal(ok.status, 200);
    assert.equal(ok.body.product.id, "p-100");
    assert.ok(ok.body.recommendations.length > 0);
    assert.ok(ok.body.reviews.summary.count > 0);
    assert.equal(ok.body.degraded, false);
    const port = ports.get("recommendations")!;
    ports.delete("recommendations");
    try {
      const degraded = await call("GET", "/products/p-100");
      assert.equal(degraded.status, 200);
      assert.equal(degraded.body.recommendations, null);
      assert.equal(degraded.body.degraded, true);
    } finally {
      ports.set("recommendations", port);
    }
    assert.equal((await call("GET", "/products/p-999")).status, 404);
  });

  test("add to cart, view cart, check out", async () => {
    const h = { "x-cart-id": "cart-e2e" };
    assert.equal((await call("POST", "/cart/items", { productId: "p-402", qty: 2 }, h)).status, 201);
    assert.equal((await call("POST", "/cart", { productId: "p-100" }, h)).status, 201);
    const cart = await call("GET", "/cart", undefined, h);
    assert.equal(cart.body.itemCount, 3);
    assert.equal(cart.body.subtotalCents, 2 * 3900 + 11900);
    const stockBefore = await (await fetch(`http://127.0.0.1:${ports.get("inventory")}/stock?ids=p-402`)).json();
    assert.equal(stockBefore.stock["p-402"].reserved, 2);
    const order = await call("POST", "/checkout", { card: TEST_CARD }, h);
    assert.equal(order.status, 201, JSON.stringify(order.body));
    assert.match(order.body.paymentId, /^pay_v1_/);
    assert.equal(order.body.totalCents, cart.body.totalCents);
    assert.equal(order.body.uncommitted, 0);
    const stockAfter = await (await fetch(`http://127.0.0.1:${ports.get("inventory")}/stock?ids=p-402`)).json();
    assert.equal(stockAfter.stock["p-402"].reserved, 0, "reservation committed");
    assert.equal((await call("GET", "/cart", undefined, h)).body.itemCount, 0);
    assert.equal((await call("POST", "/checkout", {}, h)).status, 409, "empty cart");
  });

  test("buy now, declined cards, out of stock, payments down", async () => {
    const buy = await call("POST", "/checkout", { buyNow: { productId: "p-300", qty: 1 } }, { "x-cart-id": "buy-now" });
    assert.equal(buy.status, 201);
    const declined = await call("POST", "/checkout", { card: DECLINED_CARD, buyNow: { productId: "p-300" } }, { "x-cart-id": "declined" });
    assert.equal(declined.status, 402);
    const oos = await call("POST", "/cart/items", { productId: "p-403", qty: 3 }, { "x-cart-id": "oos" });
    assert.equal(oos.status, 409);
    const port = ports.get("payments")!;
    ports.delete("payments");
    try {
      const down = await call("POST", "/checkout", { buyNow: { productId: "p-300" } }, { "x-cart-id": "pay-down" });
      assert.equal(down.status, 502);
      assert.equal(down.body.upstream, "payments");
      assert.equal(down.body.proxyError, "no-healthy-endpoints");
    } finally {
      ports.set("payments", port);
    }
  });

  test("bad input is a 4xx, not a crash", async () => {
    assert.equal((await call("POST", "/cart/items", { qty: 1 })).status, 400);
    assert.equal((await call("GET", "/nope")).status, 404);
    assert.equal((await call("DELETE", "/products")).status, 405);
    const raw = await new Promise<number>((resolve) => {
      const req = http.request(
        { host: "127.0.0.1", port: webPort, method: "POST", path: "/checkout", headers: { "content-type": "application/json" } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.end("{not json");
    });
    assert.equal(raw, 400);
  });
});

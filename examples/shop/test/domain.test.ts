/** Unit tests of the shop services' domain logic (no processes, no network). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prng } from "../src/loadmix.ts";
import { parseControlLine } from "../src/runtime/control.ts";
import { pickTraceHeaders } from "../src/runtime/http.ts";
import { CartStore, FREE_SHIPPING_FROM_CENTS, SHIPPING_CENTS, validCartId, viewCart } from "../src/services/cart.ts";
import { Catalog, PRODUCTS, withStock } from "../src/services/catalog.ts";
import { defaultStock, InsufficientStock, Inventory } from "../src/services/inventory.ts";
import { DECLINED_CARD, LIMIT_CENTS, luhnValid, PaymentProcessor, profileFor } from "../src/services/payments.ts";
import { recommend } from "../src/services/recommendations.ts";
import { reviewsFor, summarize } from "../src/services/reviews.ts";
import { cookie, resolveCartId, storefrontHtml, TEST_CARD } from "../src/services/web.ts";

describe("catalog", () => {
  const catalog = new Catalog();
  test("lists, filters by category and text, limits", () => {
    assert.equal(catalog.list().length, PRODUCTS.length);
    assert.ok(catalog.list({ category: "shoes" }).every((p) => p.category === "shoes"));
    assert.deepEqual(
      catalog.list({ q: "FILTER" }).map((p) => p.id),
      ["p-402"],
    );
    assert.equal(catalog.list({ limit: 3 }).length, 3);
  });
  test("prices separate unknown ids", () => {
    assert.deepEqual(catalog.prices(["p-100", "nope"]), { prices: { "p-100": 11900 }, unknown: ["nope"] });
  });
  test("stock merge: unknown stock is null, not 'sold out'", () => {
    const [a] = withStock([PRODUCTS[0]], undefined);
    assert.equal(a.inStock, null);
    const [b] = withStock([PRODUCTS[0]], { [PRODUCTS[0].id]: { available: 0 } });
    assert.equal(b.inStock, false);
  });
});

describe("inventory", () => {
  test("reserve is all-or-nothing and release returns stock", () => {
    const inv = new Inventory({ a: 5, b: 1 });
    assert.throws(
      () =>
        inv.reserve([
          { productId: "a", qty: 2 },
          { productId: "b", qty: 2 },
        ]),
      InsufficientStock,
    );
    assert.equal(inv.stock(["a"]).a.available, 5, "nothing taken on failure");
    const r = inv.reserve([
      { productId: "a", qty: 2 },
      { productId: "a", qty: 1 },
    ]);
    assert.deepEqual(inv.stock(["a"]).a, { available: 2, reserved: 3 });
    assert.ok(inv.release(r.reservationId));
    assert.equal(inv.stock(["a"]).a.available, 5);
    assert.equal(inv.release(r.reservationId), false);
  });
  test("commit keeps the stock taken", () => {
    const inv = new Inventory({ a: 5 });
    const r = inv.reserve([{ productId: "a", qty: 2 }]);
    assert.ok(inv.commit(r.reservationId));
    assert.deepEqual(inv.stock(["a"]).a, { available: 3, reserved: 0 });
  });
  test("rejects unknown products and bad quantities", () => {
    const inv = new Inventory({ a: 5 });
    assert.throws(() => inv.reserve([{ productId: "zz", qty: 1 }]), RangeError);
    assert.throws(() => inv.reserve([{ productId: "a", qty: 0 }]), RangeError);
    assert.throws(() => inv.reserve([]), RangeError);
  });
  test("expired reservations go back on the shelf", () => {
    let now = 1000;
    const inv = new Inventory({ a: 5 }, { reservationTtlMs: 100, now: () => now });
    inv.reserve([{ productId: "a", qty: 4 }]);
    assert.equal(inv.expire(), 0);
    now += 100;
    assert.equal(inv.expire(), 1);
    assert.equal(inv.stock(["a"]).a.available, 5);
    assert.equal(inv.reservationCount, 0);
  });
  test("restock refills only low products to their baseline", () => {
    const inv = new Inventory({ a: 50, b: 50 }, { restockBelow: 10 });
    inv.reserve([
      { productId: "a", qty: 45 },
      { productId: "b", qty: 5 },
    ]);
    assert.deepEqual(inv.restock(), ["a"]);
    assert.equal(inv.stock(["a"]).a.available, 50);
    assert.equal(inv.stock(["b"]).b.available, 45);
  });
  test("default stock covers every product", () => {
    assert.deepEqual(Object.keys(defaultStock()).sort(), PRODUCTS.map((p) => p.id).sort());
  });
});

describe("cart", () => {
  const line = (productId: string, qty: number, unitPriceCents: number) => ({
    productId,
    name: productId,
    qty,
    unitPriceCents,
    reservationId: `r-${productId}-${qty}`,
  });
  test("totals merge lines and charge shipping below the threshold", () => {
    const store = new CartStore();
    store.add("c1", line("a", 1, 1000));
    const v = viewCart(store.add("c1", line("a", 2, 1000)));
    assert.equal(v.lines.length, 1);
    assert.equal(v.itemCount, 3);
    assert.equal(v.subtotalCents, 3000);
    assert.equal(v.shippingCents, SHIPPING_CENTS);
    assert.equal(v.totalCents, 3000 + SHIPPING_CENTS);
    assert.equal(v.reservationIds.length, 2);
    const big = viewCart(store.add("c2", line("b", 1, FREE_SHIPPING_FROM_CENTS)));
    assert.equal(big.shippingCents, 0);
    assert.equal(viewCart(store.get("empty")).totalCents, 0);
  });
  test("evicts the least recently used cart", () => {
    const store = new CartStore(2);
    store.add("a", line("x", 1, 1));
    store.add("b", line("x", 1, 1));
    store.get("a"); // touch a
    store.add("c", line("x", 1, 1));
    assert.equal(store.size, 2);
    assert.equal(store.peek("b"), undefined);
    assert.ok(store.peek("a"));
  });
  test("cart ids are restricted", () => {
    assert.ok(validCartId("lg-abc_1"));
    assert.ok(!validCartId("../etc"));
    assert.ok(!validCartId(""));
  });
});

describe("payments", () => {
  test("luhn", () => {
    assert.ok(luhnValid(TEST_CARD));
    assert.ok(luhnValid("4242 4242 4242 4242"));
    assert.ok(!luhnValid("4242424242424241"));
    assert.ok(!luhnValid("abc"));
  });
  test("v1 approves valid cards, declines magic and over-limit ones, and is idempotent", () => {
    const p = new PaymentProcessor("v1", profileFor("v1"), prng(1));
    const a = p.decide({ amountCents: 1000, currency: "EUR", card: TEST_CARD, idempotencyKey: "k1" });
    assert.equal(a.status, "approved");
    assert.deepEqual(p.decide({ amountCents: 1000, currency: "EUR", card: TEST_CARD, idempotencyKey: "k1" }), a);
    assert.equal(p.decide({ amountCents: 1000, currency: "EUR", card: DECLINED_CARD }).status, "declined");
    assert.equal(p.decide({ amountCents: LIMIT_CENTS + 1, currency: "EUR", card: TEST_CARD }).status, "declined");
    assert.equal(p.decide({ amountCents: 1, currency: "EUR", card: "1234" }).status, "declined");
  });
  test("v2 is slower and fails 3-5% of charges; v1 never fails", () => {
    const rate = (version: string) => {
      const p = new PaymentProcessor(version, profileFor(version), prng(42));
      let failed = 0;
      for (let i = 0; i < 20_000; i++) if (p.decide({ amountCents: 100, currency: "EUR", card: TEST_CARD }).status === "unavailable") failed++;
      return failed / 20_000;
    };
    assert.equal(rate("v1"), 0);
    const r2 = rate("v2");
    assert.ok(r2 >= 0.03 && r2 <= 0.05, `v2 failure rate ${r2}`);
    const v1 = new PaymentProcessor("v1", profileFor("v1"), prng(3));
    const v2 = new PaymentProcessor("v2", profileFor("v2"), prng(3));
    for (let i = 0; i < 100; i++) {
      const d1 = v1.processingTimeMs();
      const d2 = v2.processingTimeMs();
      assert.ok(d1 < 10, `v1 ${d1}`);
      assert.ok(d2 - 6 >= 29, `v2 adds 30-60 ms (got ${d2})`);
    }
  });
});

describe("recommendations and reviews", () => {
  test("same category first, never the product itself", () => {
    const recs = recommend([...PRODUCTS], "p-100", 3);
    assert.equal(recs.length, 3);
    assert.ok(!recs.some((p) => p.id === "p-100"));
    assert.deepEqual(
      recs.slice(0, 2).map((p) => p.category),
      ["shoes", "shoes"],
    );
    assert.deepEqual(recommend([...PRODUCTS], "nope"), []);
  });
  test("reviews are deterministic and summarized", () => {
    assert.deepEqual(reviewsFor("p-100"), reviewsFor("p-100"));
    assert.ok(reviewsFor("p-100").length >= 2);
    assert.deepEqual(reviewsFor("nope"), []);
    assert.deepEqual(
      summarize([
        { author: "a", stars: 5, text: "" },
        { author: "b", stars: 4, text: "" },
      ]),
      { count: 2, average: 4.5 },
    );
    assert.deepEqual(summarize([]), { count: 0, average: null });
  });
});

describe("web helpers and runtime", () => {
  test("cart id: header, then body/query, then cookie, else a fresh one", () => {
    assert.deepEqual(resolveCartId({ "x-cart-id": "h1", cookie: "cart_id=k1" }, "b1"), { id: "h1", fresh: false });
    assert.deepEqual(resolveCartId({ cookie: "a=1; cart_id=k1" }, "b1"), { id: "b1", fresh: false });
    assert.deepEqual(resolveCartId({ cookie: "a=1; cart_id=k1" }), { id: "k1", fresh: false });
    const fresh = resolveCartId({ "x-cart-id": "bad id!" });
    assert.ok(fresh.fresh && validCartId(fresh.id));
    assert.equal(cookie("x=1; y=2=3", "y"), "2=3");
  });
  test("storefront escapes product text", () => {
    const html = storefrontHtml([{ ...PRODUCTS[0], name: "<script>x</script>" }]);
    assert.ok(html.includes("&lt;script&gt;") && !html.includes("<script>x"));
  });
  test("trace headers: W3C and B3 are picked, others not", () => {
    assert.deepEqual(
      pickTraceHeaders({
        traceparent: "00-a-b-01",
        tracestate: "x=1",
        "x-b3-traceid": "t",
        "x-b3-sampled": "1",
        b3: "t-s-1",
        cookie: "c",
        "x-cart-id": "c",
      }),
      { traceparent: "00-a-b-01", tracestate: "x=1", "x-b3-traceid": "t", "x-b3-sampled": "1", b3: "t-s-1" },
    );
  });
  test("control lines", () => {
    assert.deepEqual(parseControlLine('{"type":"outbound","port":4100}'), { type: "outbound", port: 4100 });
    assert.equal(parseControlLine('{"type":"outbound","port":70000}'), undefined);
    assert.equal(parseControlLine("nonsense"), undefined);
  });
});

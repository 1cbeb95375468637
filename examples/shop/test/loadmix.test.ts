/** Unit tests of the load generator's mix, arrival schedule and stats. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseOptions, Shoppers } from "../src/loadgen.ts";
import { MIX, percentile, pickKind, prng, Schedule, Stats } from "../src/loadmix.ts";

describe("mix", () => {
  test("weights are 50/25/15/10 and sum to 100", () => {
    assert.deepEqual(Object.fromEntries(MIX.map((m) => [m.kind, m.weight])), { browse: 50, product: 25, addToCart: 15, checkout: 10 });
  });
  test("picks follow the weights (within 1.5 points over 20k draws)", () => {
    const rng = prng(7);
    const n = 20_000;
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const k = pickKind(rng);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const m of MIX) assert.ok(Math.abs((counts[m.kind] / n) * 100 - m.weight) < 1.5, `${m.kind}: ${(counts[m.kind] / n) * 100}%`);
  });
  test("prng is deterministic per seed", () => {
    const a = prng(5);
    const b = prng(5);
    for (let i = 0; i < 10; i++) assert.equal(a(), b());
  });
});

describe("schedule", () => {
  test("arrivals are evenly spread: one per 1/rps, never a burst on time", () => {
    const s = new Schedule(40, 0);
    assert.equal(s.intervalMs, 25);
    const sendTimes: number[] = [];
    // Simulate a timer that fires exactly when asked.
    let now = 0;
    while (sendTimes.length < 400) {
      const n = s.due(now);
      for (let i = 0; i < n; i++) sendTimes.push(now);
      now += s.nextDelay(now) || 0.001;
    }
    const gaps = sendTimes.slice(1).map((t, i) => t - sendTimes[i]);
    assert.ok(
      gaps.every((g) => Math.abs(g - 25) < 0.01),
      "constant gaps",
    );
    assert.ok(Math.abs(sendTimes[399] - 399 * 25) < 0.01);
  });
  test("a late timer catches up without drifting", () => {
    const s = new Schedule(100, 0);
    assert.equal(s.due(0), 1);
    assert.equal(s.due(35), 3); // due at 10, 20, 30
    assert.equal(s.nextDelay(35), 5);
    assert.equal(s.skipped, 0);
  });
  test("a long stall is skipped, not paid back as a burst", () => {
    const s = new Schedule(100, 0, 200);
    s.due(0);
    const n = s.due(5000);
    assert.ok(n <= 21, `burst of ${n}`);
    assert.ok(s.skipped >= 470, `skipped ${s.skipped}`);
  });
  test("rejects a zero rate", () => {
    assert.throws(() => new Schedule(0, 0));
  });
});

describe("stats and options", () => {
  test("percentiles and summary", () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99), 10);
    const s = new Stats();
    s.record("browse", true, 10);
    s.record("checkout", false, 20, "503");
    const sum = s.summary(2);
    assert.equal(sum.sent, 2);
    assert.equal(sum.success_pct, 50);
    assert.equal(sum.rps, 1);
    assert.deepEqual(sum.failures, { "503": 1 });
  });
  test("loadgen targets only 127.0.0.1", () => {
    assert.throws(() => parseOptions(["--target", "10.0.0.1:80"]), /127\.0\.0\.1/);
    assert.throws(() => parseOptions([]), /required/);
    const o = parseOptions(["--port", "4000", "--rps", "60", "--requests", "10"]);
    assert.equal(o.host, "127.0.0.1");
    assert.equal(o.rps, 60);
    assert.equal(o.requests, 10);
    assert.equal(parseOptions(["--port", "4000"]).rps, 40);
  });
  test("shoppers: checkout uses a filled cart, or buy-now when all carts are empty", () => {
    const shoppers = new Shoppers(prng(1), 3);
    const first = shoppers.plan("checkout");
    assert.ok((first.body as { buyNow?: unknown }).buyNow, "buy now when nobody has items");
    const add = shoppers.plan("addToCart");
    shoppers.done(add, true);
    const co = shoppers.plan("checkout");
    assert.equal(co.cartId, add.cartId);
    assert.equal((co.body as { buyNow?: unknown }).buyNow, undefined);
    const second = shoppers.plan("checkout");
    assert.notEqual(second.cartId, co.cartId, "a cart being checked out is not checked out again");
    assert.notEqual(shoppers.plan("addToCart").cartId, co.cartId, "nor added to meanwhile");
    shoppers.done(co, true);
    assert.equal(shoppers.plan("browse").method, "GET");
    assert.match(shoppers.plan("product").path, /^\/products\/p-\d+$/);
  });
});

describe("loadgen against a local server", () => {
  test("sends the bounded number of requests, evenly spread, with the right shapes", async () => {
    const http = await import("node:http");
    const { runLoad } = await import("../src/loadgen.ts");
    const arrivals: Array<{ t: number; method: string; url: string; cart?: string }> = [];
    const server = http.createServer((req, res) => {
      arrivals.push({ t: performance.now(), method: req.method!, url: req.url!, cart: req.headers["x-cart-id"] as string | undefined });
      req.resume();
      res.writeHead(req.url === "/checkout" ? 201 : 200, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const lines: Array<Record<string, unknown>> = [];
    try {
      const summary = await runLoad(
        { host: "127.0.0.1", port, rps: 100, requests: 120, reportEveryS: 60, seed: 11, maxInFlight: 64, timeoutMs: 5000 },
        (l) => lines.push(l as Record<string, unknown>),
      );
      assert.equal(summary.sent, 120);
      assert.equal(summary.ok, 120);
      assert.equal(arrivals.length, 120);
      // Paced, not a burst (the even spread itself is checked on the pure schedule above; real timers may run late).
      const span = arrivals[arrivals.length - 1].t - arrivals[0].t;
      assert.ok(span > 1000, `120 requests at 100 rps took ${span.toFixed(0)} ms`);
      assert.ok(
        arrivals.filter((a) => a.method === "POST").every((a) => a.cart?.startsWith("lg-")),
        "posts carry a cart id",
      );
      assert.ok(arrivals.some((a) => a.url === "/checkout") && arrivals.some((a) => a.url.startsWith("/products")));
      assert.equal(lines.at(-1)?.msg, "loadgen done");
    } finally {
      server.close();
    }
  });
});

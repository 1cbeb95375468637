/** shipping: the quote rule, the gRPC server and cart's gRPC client (real @grpc/grpc-js on both sides, no proxy). */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { requestContext } from "../src/runtime/http.ts";
import { MeshClient } from "../src/runtime/mesh-client.ts";
import { type GrpcCallError, ShippingClient } from "../src/runtime/shipping-client.ts";
import { CartStore, quotedView, SHIPPING_CENTS } from "../src/services/cart.ts";
import {
  type QuoteReply,
  type QuoteRequest,
  quote,
  SHIPPING_QUOTE_PATH,
  SHIPPING_RATES,
  Shipping,
  serveShipping,
  shippingHandlers,
} from "../src/services/shipping.ts";

describe("quote", () => {
  test("base price plus a little per extra item, capped; free from the threshold and for an empty cart", () => {
    const r = SHIPPING_RATES;
    assert.deepEqual(quote({ cartId: "c", itemCount: 1, subtotalCents: 1000 }), {
      shippingCents: r.baseCents,
      carrier: "parcel",
      etaDays: 3,
      free: false,
    });
    assert.equal(
      (quote({ cartId: "c", itemCount: 3, subtotalCents: 1000 }) as { shippingCents: number }).shippingCents,
      r.baseCents + 2 * r.perExtraItemCents,
    );
    assert.deepEqual(quote({ cartId: "c", itemCount: 9, subtotalCents: 5000 }), {
      shippingCents: r.maxCents,
      carrier: "freight",
      etaDays: 4,
      free: false,
    });
    assert.equal((quote({ cartId: "c", itemCount: 2, subtotalCents: r.freeFromCents }) as { free: boolean }).free, true);
    assert.equal((quote({ cartId: "c", itemCount: 0, subtotalCents: 0 }) as { shippingCents: number }).shippingCents, 0);
    assert.deepEqual(quote({ cartId: "c", itemCount: -1, subtotalCents: 0 }), { invalid: "item_count must be a whole number ≥ 0" });
  });
});

describe("shipping over gRPC", () => {
  let server: { port: number; stop(): Promise<void> };
  let mesh: MeshClient;
  let client: ShippingClient;
  before(async () => {
    server = await serveShipping("127.0.0.1", 0);
    // Dialed as cart dials its agent's outbound port (127.0.0.1:<port>, `:authority: shipping`), here the server itself.
    mesh = new MeshClient({ outboundPort: server.port });
    client = new ShippingClient(mesh, 1_000);
  });
  after(async () => {
    client.close();
    mesh.close();
    await server.stop();
  });

  test("Quote answers with :authority shipping, a deadline (grpc-timeout) and the trace context as metadata", async () => {
    // A second server records what arrives with each call (what cart's agent receives), then quotes as shipping does.
    const seen: Array<{ host: string; path: string; deadlineMs: number; traceparent: unknown }> = [];
    const recording = new grpc.Server();
    recording.addService(Shipping.service, {
      Quote(call: grpc.ServerUnaryCall<QuoteRequest, QuoteReply>, cb: grpc.sendUnaryData<QuoteReply>) {
        const deadline = call.getDeadline();
        seen.push({
          host: call.getHost(),
          path: call.getPath(),
          deadlineMs: (deadline instanceof Date ? deadline.getTime() : Number(deadline)) - Date.now(),
          traceparent: call.metadata.get("traceparent")[0],
        });
        shippingHandlers.Quote(call, cb);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      recording.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const mesh2 = new MeshClient({ outboundPort: port });
    const viaRecorder = new ShippingClient(mesh2, 1_000);
    try {
      const trace = { traceparent: "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01" };
      const reply = await requestContext.run({ trace }, () => viaRecorder.quote({ cartId: "c1", itemCount: 2, subtotalCents: 2500 }));
      assert.deepEqual(reply, {
        shippingCents: SHIPPING_RATES.baseCents + SHIPPING_RATES.perExtraItemCents,
        carrier: "parcel",
        etaDays: 3,
        free: false,
      });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].host, "shipping", "the service name as :authority, as HTTP calls put it in Host");
      assert.equal(seen[0].path, SHIPPING_QUOTE_PATH);
      assert.ok(seen[0].deadlineMs > 0 && seen[0].deadlineMs <= 1_000, `a deadline within 1 s: ${seen[0].deadlineMs}`);
      assert.equal(seen[0].traceparent, trace.traceparent);
    } finally {
      viaRecorder.close();
      mesh2.close();
      recording.forceShutdown();
    }
  });

  test("an invalid request is a gRPC INVALID_ARGUMENT with its reason", async () => {
    await assert.rejects(client.quote({ cartId: "c", itemCount: -2, subtotalCents: 0 }), (err: GrpcCallError) => {
      assert.equal(err.code, 3);
      assert.match(err.message, /INVALID_ARGUMENT: item_count must be/);
      return true;
    });
  });

  test("cart prices delivery with shipping's quote, and falls back to its flat rate when shipping fails", async () => {
    const store = new CartStore();
    const cart = store.add("c1", { productId: "p-1", name: "Tent", qty: 3, unitPriceCents: 2000, reservationId: "r1" });
    const quoted = await quotedView(cart, client);
    assert.equal(quoted.shipping.quotedBy, "shipping");
    assert.equal(quoted.shippingCents, SHIPPING_RATES.baseCents + 2 * SHIPPING_RATES.perExtraItemCents);
    assert.equal(quoted.totalCents, 6000 + quoted.shippingCents);
    const down = new ShippingClient(new MeshClient({ outboundPort: 1 }), 500); // nothing listens on port 1
    try {
      const fallback = await quotedView(cart, down);
      assert.equal(fallback.shipping.quotedBy, "flat-rate");
      assert.equal(fallback.shippingCents, SHIPPING_CENTS);
      assert.match(String(fallback.shipping.error), /UNAVAILABLE|DEADLINE_EXCEEDED/);
    } finally {
      down.close();
    }
  });
});

/**
 * shipping: quotes the delivery of a cart — a gRPC service (@grpc/grpc-js), `trellis.shop.Shipping/Quote`, the shop's
 * one service that speaks gRPC rather than JSON over HTTP/1.1. Its agent hands it calls as HTTP/2 with prior knowledge
 * (h2c). The protobuf schema is declared here as a descriptor (no .proto file to find at run time in a bundle); in
 * .proto form it reads:
 *
 *   package trellis.shop;
 *   service Shipping { rpc Quote (QuoteRequest) returns (QuoteReply); }
 *   message QuoteRequest { string cart_id = 1; int32 item_count = 2; int64 subtotal_cents = 3; }
 *   message QuoteReply { int64 shipping_cents = 1; string carrier = 2; int32 eta_days = 3; bool free = 4; }
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export interface QuoteRequest {
  cartId: string;
  itemCount: number;
  subtotalCents: number;
}

export interface QuoteReply {
  shippingCents: number;
  carrier: string;
  etaDays: number;
  free: boolean;
}

/** Standard parcel: a base price plus a little per extra item (capped), free from 100.00. */
export const SHIPPING_RATES = { freeFromCents: 10_000, baseCents: 495, perExtraItemCents: 100, maxCents: 995 } as const;

/** The quote for a cart, or a reason the request is invalid (answered as INVALID_ARGUMENT). */
export function quote(req: QuoteRequest): QuoteReply | { invalid: string } {
  if (!Number.isInteger(req.itemCount) || req.itemCount < 0) return { invalid: "item_count must be a whole number ≥ 0" };
  if (!Number.isInteger(req.subtotalCents) || req.subtotalCents < 0) return { invalid: "subtotal_cents must be a whole number ≥ 0" };
  const r = SHIPPING_RATES;
  const free = req.itemCount === 0 || req.subtotalCents >= r.freeFromCents;
  const shippingCents = free ? 0 : Math.min(r.maxCents, r.baseCents + (req.itemCount - 1) * r.perExtraItemCents);
  // Bigger orders travel as freight: a day longer.
  return { shippingCents, carrier: req.itemCount > 6 ? "freight" : "parcel", etaDays: req.itemCount > 6 ? 4 : 3, free };
}

const descriptor: Parameters<typeof protoLoader.fromJSON>[0] = {
  nested: {
    trellis: {
      nested: {
        shop: {
          nested: {
            Shipping: { methods: { Quote: { requestType: "QuoteRequest", responseType: "QuoteReply", comment: "Prices the delivery of a cart." } } },
            QuoteRequest: {
              fields: { cartId: { type: "string", id: 1 }, itemCount: { type: "int32", id: 2 }, subtotalCents: { type: "int64", id: 3 } },
            },
            QuoteReply: {
              fields: {
                shippingCents: { type: "int64", id: 1 },
                carrier: { type: "string", id: 2 },
                etaDays: { type: "int32", id: 3 },
                free: { type: "bool", id: 4 },
              },
            },
          },
        },
      },
    },
  },
};

type ShippingConstructor = grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition };
const loaded = grpc.loadPackageDefinition(protoLoader.fromJSON(descriptor, { longs: Number, defaults: true })) as unknown as {
  trellis: { shop: { Shipping: ShippingConstructor } };
};
/** The generated client/service constructor for `trellis.shop.Shipping`. */
export const Shipping = loaded.trellis.shop.Shipping;
export const SHIPPING_QUOTE_PATH = "/trellis.shop.Shipping/Quote";

/** The server side: `Quote` as a grpc-js handler. */
export const shippingHandlers: { Quote: grpc.handleUnaryCall<QuoteRequest, QuoteReply> } = {
  Quote(call: grpc.ServerUnaryCall<QuoteRequest, QuoteReply>, cb: grpc.sendUnaryData<QuoteReply>) {
    const q = quote(call.request);
    if ("invalid" in q) return cb({ code: grpc.status.INVALID_ARGUMENT, details: q.invalid });
    cb(null, q);
  },
};

/** A gRPC server with the Shipping service, bound to host:port (0 = OS-chosen). Plaintext: its agent terminates mTLS. */
export async function serveShipping(host: string, port: number): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(Shipping.service, shippingHandlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      }),
  };
}

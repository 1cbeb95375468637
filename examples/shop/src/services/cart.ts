/** cart: shopping carts. Adding an item prices it with catalog and reserves it with inventory. */
import { HttpError, obj, Router } from "../runtime/http.ts";
import { type MeshClient, UpstreamError } from "../runtime/mesh-client.ts";
import { OrderTracker } from "./orders.ts";
import type { QuoteReply, QuoteRequest } from "./shipping.ts";

export interface CartLine {
  productId: string;
  name: string;
  qty: number;
  unitPriceCents: number;
  reservationId: string;
}

export interface Cart {
  id: string;
  lines: CartLine[];
  updatedAt: number;
}

export interface CartView {
  id: string;
  lines: Array<Omit<CartLine, "reservationId"> & { lineTotalCents: number }>;
  itemCount: number;
  subtotalCents: number;
  shippingCents: number;
  /** Who priced the delivery: the shipping service (gRPC), or cart's flat rate when shipping could not answer. */
  shipping: ShippingTerms;
  totalCents: number;
  reservationIds: string[];
}

export interface ShippingTerms {
  cents: number;
  carrier: string;
  etaDays: number | null;
  quotedBy: "shipping" | "flat-rate";
  /** Why shipping's quote was not used (its gRPC status), when quotedBy is flat-rate because of a failure. */
  error?: string;
}

/** What cart asks shipping (shipping.ts serves it over gRPC; runtime/shipping-client.ts calls it). */
export interface ShippingQuoter {
  quote(req: QuoteRequest): Promise<QuoteReply>;
}

/** cart's own flat rate: used when no shipping quote is available, so a cart still shows a total. */
export const FREE_SHIPPING_FROM_CENTS = 10_000;
export const SHIPPING_CENTS = 695;

export function flatRate(subtotalCents: number, error?: string): ShippingTerms {
  const cents = subtotalCents === 0 || subtotalCents >= FREE_SHIPPING_FROM_CENTS ? 0 : SHIPPING_CENTS;
  return { cents, carrier: "parcel", etaDays: null, quotedBy: "flat-rate", ...(error ? { error } : {}) };
}

/** Carts in memory, least-recently-used evicted beyond `maxCarts` (abandoned demo carts must not grow forever). */
export class CartStore {
  private readonly carts = new Map<string, Cart>();
  constructor(
    private readonly maxCarts = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Cart {
    const cart = this.carts.get(id) ?? { id, lines: [], updatedAt: this.now() };
    // Re-insert to mark as most recently used.
    this.carts.delete(id);
    this.carts.set(id, cart);
    this.evict();
    return cart;
  }

  peek(id: string): Cart | undefined {
    return this.carts.get(id);
  }

  add(id: string, line: CartLine): Cart {
    const cart = this.get(id);
    cart.lines.push(line);
    cart.updatedAt = this.now();
    return cart;
  }

  clear(id: string): Cart | undefined {
    const cart = this.carts.get(id);
    this.carts.delete(id);
    return cart;
  }

  get size(): number {
    return this.carts.size;
  }

  private evict(): void {
    while (this.carts.size > this.maxCarts) {
      const oldest = this.carts.keys().next().value as string;
      this.carts.delete(oldest);
    }
  }
}

export function viewCart(cart: Cart, shipping?: ShippingTerms): CartView {
  const merged = new Map<string, { productId: string; name: string; qty: number; unitPriceCents: number }>();
  for (const l of cart.lines) {
    const m = merged.get(l.productId);
    if (m) m.qty += l.qty;
    else merged.set(l.productId, { productId: l.productId, name: l.name, qty: l.qty, unitPriceCents: l.unitPriceCents });
  }
  const lines = [...merged.values()].map((l) => ({ ...l, lineTotalCents: l.qty * l.unitPriceCents }));
  const subtotalCents = lines.reduce((s, l) => s + l.lineTotalCents, 0);
  const terms = shipping ?? flatRate(subtotalCents);
  return {
    id: cart.id,
    lines,
    itemCount: lines.reduce((s, l) => s + l.qty, 0),
    subtotalCents,
    shippingCents: terms.cents,
    shipping: terms,
    totalCents: subtotalCents + terms.cents,
    reservationIds: cart.lines.map((l) => l.reservationId),
  };
}

export function validCartId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

/**
 * The cart with its delivery priced by shipping (a gRPC call through cart's agent); cart's flat rate when shipping
 * fails, so a shopper still sees a total (the failure shows on the graph as a gRPC status on cart → shipping).
 */
export async function quotedView(cart: Cart, shipping: ShippingQuoter | null): Promise<CartView> {
  const base = viewCart(cart);
  if (!shipping) return base;
  try {
    const q = await shipping.quote({ cartId: cart.id, itemCount: base.itemCount, subtotalCents: base.subtotalCents });
    return viewCart(cart, { cents: q.shippingCents, carrier: q.carrier, etaDays: q.etaDays, quotedBy: "shipping" });
  } catch (err) {
    return viewCart(cart, flatRate(base.subtotalCents, (err as Error).message));
  }
}

export function cartRouter(client: MeshClient, store = new CartStore(), orders = new OrderTracker(), shipping: ShippingQuoter | null = null): Router {
  function cartId(id: string): string {
    if (!validCartId(id)) throw new HttpError(400, "cart id must be 1-64 of [A-Za-z0-9_-]");
    return id;
  }
  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/carts/:id", async ({ params }) => ({ json: await quotedView(store.get(cartId(params.id)), shipping) }))
    .post("/carts/:id/items", async ({ params, body }) => {
      const id = cartId(params.id);
      const b = obj(body);
      const qty = b.qty === undefined ? 1 : b.qty;
      if (typeof b.productId !== "string" || !Number.isInteger(qty) || (qty as number) < 1 || (qty as number) > 10)
        throw new HttpError(400, "productId (string) and qty (1..10) required");
      const { product } = await client
        .json<{ product: { id: string; name: string; priceCents: number } }>("catalog", "GET", `/products/${encodeURIComponent(b.productId)}`)
        .catch((err) => {
          if (err instanceof UpstreamError && err.status === 404) throw new HttpError(404, `no product ${b.productId}`);
          throw err;
        });
      const reservation = await client
        .json<{ reservationId: string }>("inventory", "POST", "/reservations", { items: [{ productId: product.id, qty }] })
        .catch((err) => {
          if (err instanceof UpstreamError && err.status === 409) throw new HttpError(409, "out of stock", { productId: product.id });
          throw err;
        });
      const cart = store.add(id, {
        productId: product.id,
        name: product.name,
        qty: qty as number,
        unitPriceCents: product.priceCents,
        reservationId: reservation.reservationId,
      });
      return { status: 201, json: await quotedView(cart, shipping) };
    })
    .post("/carts/:id/checkout", async ({ params, body }) => {
      // Called by web once payment succeeded: the reserved goods are sold, the cart is emptied.
      const id = cartId(params.id);
      const cart = store.peek(id);
      if (!cart || cart.lines.length === 0) throw new HttpError(409, "cart is empty");
      const view = await quotedView(cart, shipping);
      const results = await Promise.allSettled(view.reservationIds.map((r) => client.json("inventory", "POST", `/reservations/${r}/commit`)));
      const uncommitted = results.filter((r) => r.status === "rejected").length;
      store.clear(id);
      const paymentId = typeof obj(body).paymentId === "string" ? (obj(body).paymentId as string) : undefined;
      const orderId = `o-${id}-${Date.now().toString(36)}`;
      // Its status moves on from "paid"; the storefront follows it live (order-stream.ts).
      orders.place(orderId);
      return { json: { orderId, paymentId, totalCents: view.totalCents, itemCount: view.itemCount, uncommitted } };
    })
    .delete("/carts/:id", async ({ params }) => {
      const cart = store.clear(cartId(params.id));
      if (cart) await Promise.allSettled(cart.lines.map((l) => client.json("inventory", "DELETE", `/reservations/${l.reservationId}`)));
      return { json: { cleared: params.id, lines: cart?.lines.length ?? 0 } };
    });
}

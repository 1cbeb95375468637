/** cart: shopping carts. Adding an item prices it with catalog and reserves it with inventory. */
import { HttpError, obj, Router } from "../runtime/http.ts";
import { type MeshClient, UpstreamError } from "../runtime/mesh-client.ts";
import { OrderTracker } from "./orders.ts";

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
  totalCents: number;
  reservationIds: string[];
}

export const FREE_SHIPPING_FROM_CENTS = 10_000;
export const SHIPPING_CENTS = 695;

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

export function viewCart(cart: Cart): CartView {
  const merged = new Map<string, { productId: string; name: string; qty: number; unitPriceCents: number }>();
  for (const l of cart.lines) {
    const m = merged.get(l.productId);
    if (m) m.qty += l.qty;
    else merged.set(l.productId, { productId: l.productId, name: l.name, qty: l.qty, unitPriceCents: l.unitPriceCents });
  }
  const lines = [...merged.values()].map((l) => ({ ...l, lineTotalCents: l.qty * l.unitPriceCents }));
  const subtotalCents = lines.reduce((s, l) => s + l.lineTotalCents, 0);
  const shippingCents = subtotalCents === 0 || subtotalCents >= FREE_SHIPPING_FROM_CENTS ? 0 : SHIPPING_CENTS;
  return {
    id: cart.id,
    lines,
    itemCount: lines.reduce((s, l) => s + l.qty, 0),
    subtotalCents,
    shippingCents,
    totalCents: subtotalCents + shippingCents,
    reservationIds: cart.lines.map((l) => l.reservationId),
  };
}

export function validCartId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

export function cartRouter(client: MeshClient, store = new CartStore(), orders = new OrderTracker()): Router {
  function cartId(id: string): string {
    if (!validCartId(id)) throw new HttpError(400, "cart id must be 1-64 of [A-Za-z0-9_-]");
    return id;
  }
  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/carts/:id", ({ params }) => ({ json: viewCart(store.get(cartId(params.id))) }))
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
      return { status: 201, json: viewCart(cart) };
    })
    .post("/carts/:id/checkout", async ({ params, body }) => {
      // Called by web once payment succeeded: the reserved goods are sold, the cart is emptied.
      const id = cartId(params.id);
      const cart = store.peek(id);
      if (!cart || cart.lines.length === 0) throw new HttpError(409, "cart is empty");
      const view = viewCart(cart);
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

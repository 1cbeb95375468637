/**
 * web: the storefront, the shop's entry point (traffic from outside the mesh arrives here through web's agent).
 * Fans out to catalog, recommendations, reviews, cart and, on checkout, payments.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { HttpError, obj, Router } from "../runtime/http.ts";
import { type MeshClient, UpstreamError } from "../runtime/mesh-client.ts";
import { type CartView, validCartId } from "./cart.ts";
import type { Product } from "./catalog.ts";

/** A Luhn-valid test card that the payments service approves. */
export const TEST_CARD = "4242424242424242";

/** The cart id of a shopper: `x-cart-id` header, then `cartId` in the body or query, then the `cart_id` cookie. */
export function resolveCartId(headers: IncomingHttpHeaders, bodyOrQuery?: string): { id: string; fresh: boolean } {
  const candidates = [headers["x-cart-id"] as string | undefined, bodyOrQuery, cookie(headers.cookie, "cart_id")];
  for (const c of candidates) if (c && validCartId(c)) return { id: c, fresh: false };
  return { id: `c-${randomUUID().slice(0, 18)}`, fresh: true };
}

export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

export function formatPrice(cents: number, currency = "EUR"): string {
  return new Intl.NumberFormat("en-IE", { style: "currency", currency }).format(cents / 100);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function storefrontHtml(products: Array<Product & { inStock?: boolean | null }>): string {
  const rows = products
    .map(
      (p) =>
        `<li><a href="/products/${escapeHtml(p.id)}">${escapeHtml(p.name)}</a> — ${formatPrice(p.priceCents)}` +
        `${p.inStock === false ? " <em>(sold out)</em>" : ""}<br><small>${escapeHtml(p.description)}</small></li>`,
    )
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Trellis Outfitters</title></head>
<body><h1>Trellis Outfitters</h1><p>Demo shop running on the Trellis mesh.</p><ul>
${rows}
</ul></body></html>`;
}

function wantsJson(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

function cartCookie(id: string, fresh: boolean): Record<string, string> {
  return fresh ? { "set-cookie": `cart_id=${id}; Path=/; HttpOnly; SameSite=Lax` } : {};
}

/** An optional dependency: its failure degrades the page instead of failing it. */
async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof UpstreamError) return null;
    throw err;
  }
}

export function webRouter(client: MeshClient): Router {
  async function addItem(headers: IncomingHttpHeaders, body: unknown) {
    const b = obj(body);
    const { id, fresh } = resolveCartId(headers, typeof b.cartId === "string" ? b.cartId : undefined);
    if (typeof b.productId !== "string") throw new HttpError(400, "productId required");
    const res = await client.request<CartView>("cart", "POST", `/carts/${id}/items`, { productId: b.productId, qty: b.qty ?? 1 });
    if (res.status === 404 || res.status === 409 || res.status === 400) return { status: res.status, json: res.body, headers: cartCookie(id, fresh) };
    if (res.status >= 300)
      throw new UpstreamError("cart", res.status, `cart: ${res.status}`, res.body, res.headers["x-trellis-error"] as string | undefined);
    return { status: 201, json: res.body, headers: cartCookie(id, fresh) };
  }

  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/", async ({ headers }) => {
      const { products } = await client.json<{ products: Product[] }>("catalog", "GET", "/products");
      return wantsJson(headers) ? { json: { shop: "Trellis Outfitters", products } } : { html: storefrontHtml(products) };
    })
    .get("/products", async ({ query }) => {
      const qs = new URLSearchParams();
      for (const k of ["category", "q", "limit"]) {
        const v = query.get(k);
        if (v) qs.set(k, v);
      }
      const s = qs.toString();
      return { json: await client.json("catalog", "GET", `/products${s ? `?${s}` : ""}`) };
    })
    .get("/products/:id", async ({ params }) => {
      const id = encodeURIComponent(params.id);
      const [product, recs, reviews] = await Promise.all([
        client.json<{ product: Product }>("catalog", "GET", `/products/${id}`).catch((err) => {
          if (err instanceof UpstreamError && err.status === 404) throw new HttpError(404, `no product ${params.id}`);
          throw err;
        }),
        optional(client.json<{ items: unknown[] }>("recommendations", "GET", `/recommendations?productId=${id}`)),
        optional(client.json<{ summary: unknown; reviews: unknown[] }>("reviews", "GET", `/reviews?productId=${id}&limit=3`)),
      ]);
      return {
        json: { ...product, recommendations: recs?.items ?? null, reviews: reviews ?? null, degraded: recs === null || reviews === null },
      };
    })
    .get("/cart", async ({ headers, query }) => {
      const { id, fresh } = resolveCartId(headers, query.get("cartId") ?? undefined);
      return { json: await client.json<CartView>("cart", "GET", `/carts/${id}`), headers: cartCookie(id, fresh) };
    })
    .post("/cart", ({ headers, body }) => addItem(headers, body))
    .post("/cart/items", ({ headers, body }) => addItem(headers, body))
    .post("/checkout", async ({ headers, body }) => {
      const b = obj(body);
      const { id, fresh } = resolveCartId(headers, typeof b.cartId === "string" ? b.cartId : undefined);
      // "Buy now": put the item in the cart first, then check out as usual.
      if (b.buyNow) {
        const added = await addItem({ ...headers, "x-cart-id": id }, b.buyNow);
        if (added.status >= 300) return added;
      }
      const cart = await client.json<CartView>("cart", "GET", `/carts/${id}`);
      if (cart.itemCount === 0) throw new HttpError(409, "cart is empty");
      const card = typeof b.card === "string" ? b.card : TEST_CARD;
      const idempotencyKey = `${id}:${cart.reservationIds.join(",")}`.slice(0, 128);
      const pay = await client.request<{ paymentId?: string; processedBy?: string; error?: string }>("payments", "POST", "/charge", {
        amountCents: cart.totalCents,
        currency: "EUR",
        card,
        idempotencyKey,
      });
      if (pay.status === 402) return { status: 402, json: { error: pay.body.error ?? "payment declined", cartId: id } };
      if (pay.status < 200 || pay.status >= 300)
        throw new UpstreamError(
          "payments",
          pay.status,
          `payment failed: ${pay.body?.error ?? pay.status}`,
          pay.body,
          pay.headers["x-trellis-error"] as string | undefined,
        );
      const order = await client.json<{ orderId: string }>("cart", "POST", `/carts/${id}/checkout`, { paymentId: pay.body.paymentId });
      return {
        status: 201,
        json: { ...order, cartId: id, paymentId: pay.body.paymentId, paidWith: pay.body.processedBy, totalCents: cart.totalCents },
        headers: cartCookie(id, fresh),
      };
    });
}

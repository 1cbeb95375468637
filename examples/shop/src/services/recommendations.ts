/** recommendations: "you may also like" — products of the same category first, ranked by rating. Asks catalog. */
import { HttpError, intParam, Router } from "../runtime/http.ts";
import type { MeshClient } from "../runtime/mesh-client.ts";
import type { Product } from "./catalog.ts";

export function recommend(products: Product[], productId: string, limit = 4): Product[] {
  const self = products.find((p) => p.id === productId);
  if (!self) return [];
  const rank = (p: Product) => (p.category === self.category ? 10 : 0) + p.rating;
  return products
    .filter((p) => p.id !== productId)
    .sort((a, b) => rank(b) - rank(a) || a.id.localeCompare(b.id))
    .slice(0, limit);
}

export function recommendationsRouter(client: MeshClient): Router {
  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/recommendations", async ({ query }) => {
      const productId = query.get("productId");
      if (!productId) throw new HttpError(400, "productId required");
      const { products } = await client.json<{ products: Product[] }>("catalog", "GET", "/products");
      const limit = intParam(query.get("limit"), 4, 1, 10);
      return { json: { productId, items: recommend(products, productId, limit).map(({ id, name, priceCents }) => ({ id, name, priceCents })) } };
    });
}

/** catalog: the product list and prices. Asks inventory for stock levels (degrades to "stock unknown"). */
import { HttpError, intParam, Router } from "../runtime/http.ts";
import { type MeshClient, UpstreamError } from "../runtime/mesh-client.ts";

export interface Product {
  id: string;
  name: string;
  category: string;
  priceCents: number;
  description: string;
  rating: number;
}

export const PRODUCTS: readonly Product[] = [
  { id: "p-100", name: "Trail running shoes", category: "shoes", priceCents: 11900, description: "Grippy, light, 8 mm drop.", rating: 4.6 },
  { id: "p-101", name: "Road running shoes", category: "shoes", priceCents: 12900, description: "Cushioned daily trainer.", rating: 4.4 },
  { id: "p-102", name: "Hiking boots", category: "shoes", priceCents: 17900, description: "Waterproof leather, Vibram sole.", rating: 4.7 },
  { id: "p-200", name: "Rain shell", category: "jackets", priceCents: 14900, description: "3-layer, 20k/20k membrane.", rating: 4.3 },
  { id: "p-201", name: "Down jacket", category: "jackets", priceCents: 22900, description: "800-fill, packs into its pocket.", rating: 4.8 },
  { id: "p-202", name: "Fleece mid-layer", category: "jackets", priceCents: 6900, description: "Grid fleece, breathes well.", rating: 4.5 },
  { id: "p-300", name: "Daypack 22 L", category: "packs", priceCents: 8900, description: "Hip belt, hydration sleeve.", rating: 4.2 },
  { id: "p-301", name: "Trekking pack 55 L", category: "packs", priceCents: 21900, description: "Adjustable back system.", rating: 4.6 },
  { id: "p-400", name: "Headlamp 400 lm", category: "gear", priceCents: 4900, description: "USB-C rechargeable.", rating: 4.4 },
  { id: "p-401", name: "Trekking poles", category: "gear", priceCents: 7900, description: "Carbon, flick-lock.", rating: 4.1 },
  { id: "p-402", name: "Water filter", category: "gear", priceCents: 3900, description: "Squeeze filter, 0.1 micron.", rating: 4.7 },
  { id: "p-403", name: "Insulated bottle", category: "gear", priceCents: 2900, description: "Keeps it hot for 12 h.", rating: 4.3 },
];

export class Catalog {
  private readonly byId: Map<string, Product>;
  constructor(readonly products: readonly Product[] = PRODUCTS) {
    this.byId = new Map(products.map((p) => [p.id, p]));
  }

  list(filter: { category?: string; q?: string; limit?: number } = {}): Product[] {
    const q = filter.q?.toLowerCase();
    return this.products
      .filter((p) => !filter.category || p.category === filter.category)
      .filter((p) => !q || p.name.toLowerCase().includes(q) || p.description.toLowerCase().includes(q))
      .slice(0, filter.limit ?? this.products.length);
  }

  get(id: string): Product | undefined {
    return this.byId.get(id);
  }

  /** Unit prices for the ids that exist; unknown ids are listed apart. */
  prices(ids: string[]): { prices: Record<string, number>; unknown: string[] } {
    const prices: Record<string, number> = {};
    const unknown: string[] = [];
    for (const id of ids) {
      const p = this.byId.get(id);
      if (p) prices[id] = p.priceCents;
      else unknown.push(id);
    }
    return { prices, unknown };
  }
}

type StockMap = Record<string, { available: number }>;

export function withStock(products: Product[], stock: StockMap | undefined) {
  return products.map((p) => {
    const available = stock?.[p.id]?.available;
    return { ...p, stock: available ?? null, inStock: available === undefined ? null : available > 0 };
  });
}

export function catalogRouter(client: MeshClient, catalog = new Catalog()): Router {
  async function stockFor(ids: string[]): Promise<StockMap | undefined> {
    try {
      const res = await client.json<{ stock: StockMap }>("inventory", "GET", `/stock?ids=${ids.map(encodeURIComponent).join(",")}`);
      return res.stock;
    } catch (err) {
      if (err instanceof UpstreamError) return undefined; // show the catalog without stock rather than fail the page
      throw err;
    }
  }
  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/products", async ({ query }) => {
      const products = catalog.list({
        category: query.get("category") ?? undefined,
        q: query.get("q") ?? undefined,
        limit: intParam(query.get("limit"), 50, 1, 200),
      });
      const stock = await stockFor(products.map((p) => p.id));
      return { json: { products: withStock(products, stock), stockKnown: stock !== undefined } };
    })
    .get("/products/:id", async ({ params }) => {
      const product = catalog.get(params.id);
      if (!product) throw new HttpError(404, `no product ${params.id}`);
      const stock = await stockFor([product.id]);
      return { json: { product: withStock([product], stock)[0] } };
    })
    .get("/prices", ({ query }) => {
      const ids = (query.get("ids") ?? "").split(",").filter(Boolean);
      return { json: catalog.prices(ids) };
    });
}

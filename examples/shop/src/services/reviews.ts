/** reviews: customer reviews per product (seeded, deterministic) with a rating summary. No dependencies. */
import { intParam, Router } from "../runtime/http.ts";
import { PRODUCTS } from "./catalog.ts";

export interface Review {
  author: string;
  stars: number;
  text: string;
}

const AUTHORS = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana"];
const TEXTS = ["Exactly as described.", "Good value.", "Runs a bit small.", "Would buy again.", "Solid, a bit heavy.", "Great on the trail."];

/** Small deterministic hash so the same product always gets the same reviews. */
export function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function reviewsFor(productId: string): Review[] {
  if (!PRODUCTS.some((p) => p.id === productId)) return [];
  const h = hash(productId);
  const n = 2 + (h % 5);
  return Array.from({ length: n }, (_, i) => {
    const x = hash(`${productId}:${i}`);
    return { author: AUTHORS[x % AUTHORS.length], stars: 3 + (x % 3), text: TEXTS[(x >>> 3) % TEXTS.length] };
  });
}

export function summarize(reviews: Review[]): { count: number; average: number | null } {
  if (!reviews.length) return { count: 0, average: null };
  return { count: reviews.length, average: Math.round((reviews.reduce((s, r) => s + r.stars, 0) / reviews.length) * 10) / 10 };
}

export function reviewsRouter(): Router {
  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/reviews", ({ query }) => {
      const productId = query.get("productId") ?? "";
      const reviews = reviewsFor(productId).slice(0, intParam(query.get("limit"), 10, 1, 50));
      return { json: { productId, summary: summarize(reviewsFor(productId)), reviews } };
    });
}

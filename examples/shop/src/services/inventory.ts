/** inventory: stock levels and short-lived reservations (carts reserve, checkout commits, abandoned carts expire). */
import { randomUUID } from "node:crypto";
import { HttpError, obj, Router } from "../runtime/http.ts";
import { PRODUCTS } from "./catalog.ts";

export interface LineItem {
  productId: string;
  qty: number;
}

interface Reservation {
  id: string;
  items: LineItem[];
  expiresAt: number;
}

export class InsufficientStock extends Error {
  constructor(
    readonly productId: string,
    readonly available: number,
    readonly requested: number,
  ) {
    super(`only ${available} of ${productId} left, ${requested} requested`);
  }
}

export interface InventoryOptions {
  /** Reservations not committed within this time are released. */
  reservationTtlMs?: number;
  /** A product whose available stock falls below `restockBelow` is refilled to its baseline by `restock()`. */
  restockBelow?: number;
  now?: () => number;
}

export class Inventory {
  private readonly available = new Map<string, number>();
  private readonly baseline: Map<string, number>;
  private readonly reservations = new Map<string, Reservation>();
  private readonly ttl: number;
  private readonly restockBelow: number;
  private readonly now: () => number;

  constructor(initial: Record<string, number>, opts: InventoryOptions = {}) {
    for (const [id, n] of Object.entries(initial)) this.available.set(id, n);
    this.baseline = new Map(this.available);
    this.ttl = opts.reservationTtlMs ?? 120_000;
    this.restockBelow = opts.restockBelow ?? 20;
    this.now = opts.now ?? Date.now;
  }

  stock(ids?: string[]): Record<string, { available: number; reserved: number }> {
    const reserved = new Map<string, number>();
    for (const r of this.reservations.values()) for (const it of r.items) reserved.set(it.productId, (reserved.get(it.productId) ?? 0) + it.qty);
    const out: Record<string, { available: number; reserved: number }> = {};
    for (const id of ids ?? [...this.available.keys()]) {
      const available = this.available.get(id);
      if (available !== undefined) out[id] = { available, reserved: reserved.get(id) ?? 0 };
    }
    return out;
  }

  /** Takes the items out of available stock, all or nothing. */
  reserve(items: LineItem[]): { reservationId: string; expiresAt: string } {
    if (!items.length) throw new RangeError("nothing to reserve");
    const wanted = new Map<string, number>();
    for (const it of items) {
      if (!Number.isInteger(it.qty) || it.qty <= 0 || it.qty > 100) throw new RangeError(`bad quantity ${it.qty}`);
      if (!this.available.has(it.productId)) throw new RangeError(`unknown product ${it.productId}`);
      wanted.set(it.productId, (wanted.get(it.productId) ?? 0) + it.qty);
    }
    for (const [id, qty] of wanted) {
      const have = this.available.get(id)!;
      if (have < qty) throw new InsufficientStock(id, have, qty);
    }
    for (const [id, qty] of wanted) this.available.set(id, this.available.get(id)! - qty);
    const r: Reservation = { id: randomUUID(), items: [...wanted].map(([productId, qty]) => ({ productId, qty })), expiresAt: this.now() + this.ttl };
    this.reservations.set(r.id, r);
    return { reservationId: r.id, expiresAt: new Date(r.expiresAt).toISOString() };
  }

  /** The goods are sold: the reservation ends without returning stock. */
  commit(reservationId: string): boolean {
    return this.reservations.delete(reservationId);
  }

  /** The goods go back on the shelf. */
  release(reservationId: string): boolean {
    const r = this.reservations.get(reservationId);
    if (!r) return false;
    for (const it of r.items) this.available.set(it.productId, (this.available.get(it.productId) ?? 0) + it.qty);
    this.reservations.delete(reservationId);
    return true;
  }

  /** Releases expired reservations; returns how many. */
  expire(): number {
    const now = this.now();
    let n = 0;
    for (const r of [...this.reservations.values()]) if (r.expiresAt <= now && this.release(r.id)) n++;
    return n;
  }

  /** The supplier delivers: low products go back to their baseline. Returns the ids restocked. */
  restock(): string[] {
    const done: string[] = [];
    for (const [id, n] of this.available) {
      const base = this.baseline.get(id) ?? 0;
      if (n < this.restockBelow && n < base) {
        this.available.set(id, base);
        done.push(id);
      }
    }
    return done;
  }

  get reservationCount(): number {
    return this.reservations.size;
  }
}

export function defaultStock(): Record<string, number> {
  // Deterministic, uneven stock levels: some items are scarce.
  return Object.fromEntries(PRODUCTS.map((p, i) => [p.id, [400, 250, 60, 900, 35, 500][i % 6]]));
}

export function parseItems(body: unknown): LineItem[] {
  const items = obj(body).items;
  if (!Array.isArray(items) || items.length === 0 || items.length > 50) throw new HttpError(400, "items must be a non-empty array");
  return items.map((raw) => {
    const it = raw as { productId?: unknown; qty?: unknown };
    if (typeof it?.productId !== "string" || !Number.isInteger(it.qty) || (it.qty as number) <= 0 || (it.qty as number) > 100)
      throw new HttpError(400, "each item needs productId (string) and qty (1..100)");
    return { productId: it.productId, qty: it.qty as number };
  });
}

export function inventoryRouter(inventory: Inventory): Router {
  return new Router()
    .get("/healthz", () => ({ json: { ok: true } }))
    .get("/stock", ({ query }) => {
      const ids = query.get("ids")?.split(",").filter(Boolean);
      return { json: { stock: inventory.stock(ids) } };
    })
    .post("/reservations", ({ body }) => {
      const items = parseItems(body);
      try {
        return { status: 201, json: inventory.reserve(items) };
      } catch (err) {
        if (err instanceof InsufficientStock) throw new HttpError(409, err.message, { productId: err.productId, available: err.available });
        if (err instanceof RangeError) throw new HttpError(400, err.message);
        throw err;
      }
    })
    .post("/reservations/:id/commit", ({ params }) => {
      if (!inventory.commit(params.id)) throw new HttpError(404, "no such reservation (expired?)");
      return { json: { committed: params.id } };
    })
    .delete("/reservations/:id", ({ params }) => {
      if (!inventory.release(params.id)) throw new HttpError(404, "no such reservation");
      return { json: { released: params.id } };
    });
}

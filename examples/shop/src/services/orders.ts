/**
 * Order status after checkout, kept by cart (which places the orders): paid → packed → shipped → delivered, moved on
 * by the warehouse's clock (timers here: the demo has no warehouse). Subscribers hear every change as it happens —
 * what the live order status stream (order-stream.ts) sends to the storefront. In memory and bounded: the oldest
 * orders are forgotten beyond MAX_ORDERS, delivered ones after KEEP_DELIVERED_MS.
 */
export const ORDER_STATUSES = ["paid", "packed", "shipped", "delivered"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderEvent {
  orderId: string;
  status: OrderStatus;
  /** Unix ms of the change. */
  at: number;
}

type Listener = (e: OrderEvent) => void;

const MAX_ORDERS = 5_000;
const KEEP_DELIVERED_MS = 120_000;

interface Order {
  last: OrderEvent;
  listeners: Set<Listener>;
  timers: NodeJS.Timeout[];
}

export class OrderTracker {
  private readonly orders = new Map<string, Order>();

  /** `stepMs`: the time between two statuses (packed after one step, shipped after two, delivered after three). */
  constructor(private readonly stepMs = 2_000) {}

  place(orderId: string, now = Date.now()): OrderEvent {
    if (this.orders.size >= MAX_ORDERS) this.forget(this.orders.keys().next().value as string);
    const order: Order = { last: { orderId, status: "paid", at: now }, listeners: new Set(), timers: [] };
    this.orders.set(orderId, order);
    for (let i = 1; i < ORDER_STATUSES.length; i++)
      order.timers.push(setTimeout(() => this.advance(orderId, ORDER_STATUSES[i]), i * this.stepMs).unref());
    return order.last;
  }

  /** The order's current status, or undefined for an unknown (or forgotten) order. */
  status(orderId: string): OrderEvent | undefined {
    return this.orders.get(orderId)?.last;
  }

  /** Calls `listener` on every later change; returns the unsubscribe function (undefined: no such order). */
  subscribe(orderId: string, listener: Listener): (() => void) | undefined {
    const order = this.orders.get(orderId);
    if (!order) return undefined;
    order.listeners.add(listener);
    return () => order.listeners.delete(listener);
  }

  private advance(orderId: string, status: OrderStatus): void {
    const order = this.orders.get(orderId);
    if (!order) return;
    order.last = { orderId, status, at: Date.now() };
    for (const l of [...order.listeners]) l(order.last);
    if (status === "delivered") order.timers.push(setTimeout(() => this.forget(orderId), KEEP_DELIVERED_MS).unref());
  }

  private forget(orderId: string): void {
    const order = this.orders.get(orderId);
    if (!order) return;
    for (const t of order.timers) clearTimeout(t);
    this.orders.delete(orderId);
  }
}

/**
 * The load generator's shoppers follow their orders: after a successful checkout, the live order status stream
 * (a WebSocket at web's `/orders/<id>/live`, through web's agent) until the order is delivered — at most MAX_OPEN at
 * once, so the graph always has a few long-lived streams on ingress → web and web → cart.
 */
import { WebSocket } from "ws";

export const MAX_OPEN_STREAMS = 4;

export interface StreamStats {
  /** Streams opened, orders followed to "delivered", status events received, streams that ended otherwise. */
  opened: number;
  delivered: number;
  events: number;
  failed: number;
}

export class OrderFollower {
  readonly stats: StreamStats = { opened: 0, delivered: 0, events: 0, failed: 0 };
  private readonly open = new Set<WebSocket>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly max = MAX_OPEN_STREAMS,
  ) {}

  /** Follows `orderId` unless MAX_OPEN streams are open already (the order is then simply not watched). */
  follow(orderId: string): void {
    if (this.open.size >= this.max) return;
    const ws = new WebSocket(`ws://${this.host}:${this.port}/orders/${encodeURIComponent(orderId)}/live`, { headers: { host: "web" } });
    this.open.add(ws);
    this.stats.opened++;
    let delivered = false;
    ws.on("message", (data) => {
      this.stats.events++;
      try {
        if ((JSON.parse(String(data)) as { status?: string }).status === "delivered") delivered = true;
      } catch {
        // not an order event: counted, ignored
      }
    });
    ws.on("close", (code) => {
      this.open.delete(ws);
      if (delivered && code === 1000) this.stats.delivered++;
      else this.stats.failed++;
    });
    ws.on("error", () => ws.terminate());
  }

  /** The run is over: lets the open streams end (their orders delivered) for up to `ms`, then cuts the rest. */
  async finish(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.open.size > 0 && Date.now() < deadline) {
      const first = this.open.values().next().value as WebSocket;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        first.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const ws of this.open) ws.terminate();
  }
}

/**
 * The live order status stream, a WebSocket at `/orders/<id>/live` on two services:
 *
 *   customer ──ws──► web's agent ──► web ──ws──► web's agent ──► cart's agent ──► cart
 *
 * cart serves it from its OrderTracker: the current status at once, then every change, then a normal close (1000)
 * once delivered; an unknown order is closed with 4404. web relays it for the storefront, dialing cart through its
 * own agent like any other call (the outbound listener with `Host: cart`, or `cart:<port>` in capture mode), and
 * passes cart's close code on. Each end closes the other.
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import { pickTraceHeaders } from "../runtime/http.ts";
import type { MeshClient } from "../runtime/mesh-client.ts";
import type { OrderTracker } from "./orders.ts";

export const UNKNOWN_ORDER_CLOSE = 4404;
const PATH = /^\/orders\/([A-Za-z0-9_-]{1,128})\/live$/;

type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

function orderIdOf(req: http.IncomingMessage): string | null {
  const m = PATH.exec((req.url ?? "").split("?")[0]);
  return m ? m[1] : null;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/** cart: streams one order's status changes. */
export function serveOrderStream(tracker: OrderTracker): UpgradeHandler {
  const wss = new WebSocketServer({ noServer: true });
  return (req, socket, head) => {
    const orderId = orderIdOf(req);
    if (orderId === null) return refuse(socket, 404, "Not Found");
    wss.handleUpgrade(req, socket, head, (ws) => {
      const now = tracker.status(orderId);
      if (!now) return ws.close(UNKNOWN_ORDER_CLOSE, "unknown order");
      ws.send(JSON.stringify(now));
      if (now.status === "delivered") return ws.close(1000, "delivered");
      const unsubscribe = tracker.subscribe(orderId, (e) => {
        ws.send(JSON.stringify(e));
        if (e.status === "delivered") ws.close(1000, "delivered");
      });
      ws.on("close", () => unsubscribe?.());
      ws.on("error", () => ws.terminate());
    });
  };
}

/** web: relays cart's stream of one order to the customer, through web's agent. */
export function relayOrderStream(client: MeshClient): UpgradeHandler {
  const wss = new WebSocketServer({ noServer: true });
  return (req, socket, head) => {
    const orderId = orderIdOf(req);
    if (orderId === null) return refuse(socket, 404, "Not Found");
    const target = client.webSocketTarget("cart", `/orders/${orderId}/live`, pickTraceHeaders(req.headers));
    if (target === null) return refuse(socket, 503, "Service Unavailable");
    wss.handleUpgrade(req, socket, head, (customer) => {
      const cart = new WebSocket(target.url, { headers: target.headers });
      cart.on("message", (data, isBinary) => customer.send(data, { binary: isBinary }));
      // 1005/1006 (no code / abnormal) cannot be sent in a close frame: relayed as 1011 (the server failed).
      const relayable = (code: number) => (code === 1005 || code === 1006 ? 1011 : code);
      cart.on("close", (code, reason) => customer.close(relayable(code), reason));
      cart.on("unexpected-response", (_req, res) => {
        customer.close(1011, `cart answered ${res.statusCode} ${res.headers["x-trellis-error"] ?? ""}`.trim());
        cart.terminate();
      });
      cart.on("error", () => customer.close(1011, "cart unreachable"));
      customer.on("close", () => cart.close());
      customer.on("error", () => cart.terminate());
    });
  };
}

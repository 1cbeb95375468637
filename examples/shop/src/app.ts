/**
 * One shop service process. Environment: SERVICE (web|catalog|cart|inventory|payments|recommendations|reviews|shipping),
 * VERSION (v1, v2 …), PORT (0 = OS-chosen), OUTBOUND_PORT (the agent's outbound listener; may instead arrive later
 * on stdin when TRELLIS_CONTROL=stdin, see runtime/control.ts). Capture mode: DIRECT_PORT=P makes the app call other
 * services at `http://<service>:P/…` with no proxy (the pod's iptables rules take the calls to its agent) and
 * LISTEN_HOST=0.0.0.0 lets it listen like an ordinary app in a pod.
 * Prints {"msg":"app listening","port":P} once bound. shipping is a gRPC server (services/shipping.ts); the others
 * serve HTTP/1.1.
 */
import http from "node:http";
import { listenForControl } from "./runtime/control.ts";
import type { Router } from "./runtime/http.ts";
import { log } from "./runtime/log.ts";
import { MeshClient } from "./runtime/mesh-client.ts";
import { ShippingClient } from "./runtime/shipping-client.ts";
import { CartStore, cartRouter } from "./services/cart.ts";
import { catalogRouter } from "./services/catalog.ts";
import { defaultStock, Inventory, inventoryRouter } from "./services/inventory.ts";
import { relayOrderStream, serveOrderStream } from "./services/order-stream.ts";
import { OrderTracker } from "./services/orders.ts";
import { PaymentProcessor, paymentsRouter } from "./services/payments.ts";
import { recommendationsRouter } from "./services/recommendations.ts";
import { reviewsRouter } from "./services/reviews.ts";
import { serveShipping } from "./services/shipping.ts";
import { webRouter } from "./services/web.ts";

export const SERVICES = ["web", "catalog", "cart", "inventory", "payments", "recommendations", "reviews", "shipping"] as const;

const service = process.env.SERVICE ?? "";
const version = process.env.VERSION ?? "v1";
const port = Number(process.env.PORT ?? 0);
const outbound = process.env.OUTBOUND_PORT ? Number(process.env.OUTBOUND_PORT) : undefined;
const directPort = process.env.DIRECT_PORT ? Number(process.env.DIRECT_PORT) : undefined;
const listenHost = process.env.LISTEN_HOST ?? "127.0.0.1";

if (!(SERVICES as readonly string[]).includes(service)) {
  log("error", `SERVICE must be one of ${SERVICES.join(", ")}`, { service });
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log("error", "PORT must be 0..65535", { port: process.env.PORT });
  process.exit(2);
}

const client = new MeshClient({ outboundPort: outbound, directPort });
const shipping = new ShippingClient(client);
const timers: NodeJS.Timeout[] = [];
/** cart's orders (their status stream is served from here too). */
const orders = new OrderTracker();

function routerFor(name: string): Router {
  switch (name) {
    case "web":
      return webRouter(client);
    case "catalog":
      return catalogRouter(client);
    case "cart":
      return cartRouter(client, new CartStore(), orders, shipping);
    case "inventory": {
      const inv = new Inventory(defaultStock());
      // The supplier delivers every 2 s: a demo that runs for hours should not sell out for good.
      timers.push(setInterval(() => inv.expire(), 5_000).unref(), setInterval(() => inv.restock(), 2_000).unref());
      return inventoryRouter(inv);
    }
    case "payments":
      return paymentsRouter(new PaymentProcessor(version));
    case "recommendations":
      return recommendationsRouter(client);
    default:
      return reviewsRouter();
  }
}

function listening(bound: number): void {
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level: "info", msg: "app listening", port: bound, service, version })}\n`);
}

/** shipping: gRPC only (HTTP/2); the HTTP/1.1 server below is not started for it. */
const grpcServer =
  service === "shipping"
    ? serveShipping(listenHost, port).then(
        (s) => {
          listening(s.port);
          return s;
        },
        (err) => {
          log("error", "cannot listen", { error: String(err), port });
          process.exit(1);
        },
      )
    : undefined;

const server = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, routerFor(service).listener());
server.on("clientError", (_err, socket) => socket.destroy());
// The live order status stream (WebSocket): served by cart, relayed by web; other services refuse upgrades.
const upgrade = service === "cart" ? serveOrderStream(orders) : service === "web" ? relayOrderStream(client) : null;
server.on("upgrade", (req, socket, head) => {
  socket.on("error", () => socket.destroy());
  if (upgrade) upgrade(req, socket, head);
  else socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
});

if (!grpcServer)
  server.listen(port, listenHost, () => {
    const addr = server.address();
    listening(typeof addr === "object" && addr ? addr.port : port);
  });
server.on("error", (err) => {
  log("error", "cannot listen", { error: String(err), port });
  process.exit(1);
});

function stop(reason: string): void {
  log("info", "stopping", { reason });
  for (const t of timers) clearInterval(t);
  client.close();
  shipping.close();
  if (grpcServer) void grpcServer.then((s) => s.stop()).then(() => process.exit(0));
  else server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}

if (process.env.TRELLIS_CONTROL === "stdin") {
  listenForControl({
    onOutboundPort(p) {
      if (client.outboundPort !== p) log("info", "outbound port set", { outbound: p });
      client.setOutboundPort(p);
    },
    onClose: () => stop("control channel closed (launcher gone)"),
  });
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

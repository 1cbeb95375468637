/**
 * HTTP/1.1 upgrades (WebSocket) enter the stacks like any request: Node hands the server's `upgrade` event a raw
 * socket instead of a response, so a response is built on that socket here. Until the upstream answers 101 every
 * proxy-made error (403 rbac-denied, 504 timeout …) and every non-101 answer is written on it as usual, then the
 * socket is closed; after a 101 the exchange pipes it to the upstream's socket (proxy/tunnel.ts).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ProxyResponse } from "./exchange.ts";

function endSocket(this: ProxyResponse): void {
  this.tunnelSocket?.end();
}

/** A response written on the upgrade request's socket; the socket closes once it is finished. */
export function upgradeResponse(
  Response: new (req: IncomingMessage) => ProxyResponse,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): ProxyResponse {
  const res = new Response(req);
  res.shouldKeepAlive = false;
  res.tunnelSocket = socket;
  res.tunnelHead = head;
  res.assignSocket(socket as never);
  res.on("finish", endSocket);
  socket.on("error", () => socket.destroy());
  return res;
}

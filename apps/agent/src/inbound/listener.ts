/**
 * The inbound (mesh-facing) HTTP/1.1 + HTTP/2 servers, fed connections by the front door (security/inbound-front.ts). The request
 * goes to the app as received, minus hop-by-hop headers; `x-trellis-source` is kept (informational), any incoming
 * `x-trellis-peer-identity` is dropped and, for mTLS calls, set to the caller's SPIFFE id from its certificate.
 */
import type { IncomingMessage } from "node:http";
import type { RateLimitedLog } from "../log.ts";
import { Exchange, type ProxyResponse } from "../proxy/exchange.ts";
import { createProxyListener, type HttpFront } from "../proxy/front.ts";
import { filterRequestHeaders, PEER_IDENTITY_HEADER } from "../proxy/headers.ts";
import type { Stack } from "../proxy/layer.ts";
import type { HttpLimits } from "../proxy/server.ts";
import type { PeerSocket } from "../security/inbound-front.ts";

export function createInboundListener(stack: Stack, limits: HttpLimits, rateLog: RateLimitedLog): HttpFront {
  return createProxyListener(
    "inbound",
    limits,
    (req: IncomingMessage, res: ProxyResponse) => {
      const ex = new Exchange(req, res);
      ex.path = req.url ?? "/";
      ex.headers = filterRequestHeaders(req.rawHeaders, ex, null, null);
      if (ex.h2) ex.decodedH2();
      const sock = req.socket as PeerSocket;
      if (sock.encrypted === true) {
        ex.mtls = true;
        const peer = sock.trellisPeer ?? null;
        ex.peer = peer;
        if (peer !== null) ex.headers.push(PEER_IDENTITY_HEADER, peer);
      }
      stack.run(ex);
    },
    rateLog,
  );
}

/**
 * The inbound (mesh-facing) listener. The request goes to the app as received, minus hop-by-hop headers;
 * `x-trellis-source` is kept (harmless, and it tells the app who called).
 */
import type { IncomingMessage, Server } from "node:http";
import type { RateLimitedLog } from "../log.ts";
import { Exchange, type ProxyResponse } from "../proxy/exchange.ts";
import { filterRequestHeaders } from "../proxy/headers.ts";
import type { Stack } from "../proxy/layer.ts";
import { type HttpLimits, createProxyServer } from "../proxy/server.ts";

export function createInboundListener(stack: Stack, limits: HttpLimits, rateLog: RateLimitedLog): Server {
  return createProxyServer(
    "inbound",
    limits,
    (req: IncomingMessage, res: ProxyResponse) => {
      const ex = new Exchange(req, res);
      ex.path = req.url ?? "/";
      ex.headers = filterRequestHeaders(req.rawHeaders, ex, null, null);
      stack.run(ex);
    },
    rateLog,
  );
}

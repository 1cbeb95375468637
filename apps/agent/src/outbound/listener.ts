/** The outbound (app-facing) listener: decodes each request into an exchange and runs the outbound stack. */
import type { IncomingMessage, Server } from "node:http";
import type { RateLimitedLog } from "../log.ts";
import { Exchange, type ProxyResponse } from "../proxy/exchange.ts";
import type { Stack } from "../proxy/layer.ts";
import { createProxyServer, type HttpLimits } from "../proxy/server.ts";
import { decodeOutbound } from "./decode.ts";

export function createOutboundListener(stack: Stack, sourceValue: string, limits: HttpLimits, rateLog: RateLimitedLog): Server {
  return createProxyServer(
    "outbound",
    limits,
    (req: IncomingMessage, res: ProxyResponse) => {
      const ex = new Exchange(req, res);
      decodeOutbound(ex, sourceValue);
      stack.run(ex);
    },
    rateLog,
  );
}

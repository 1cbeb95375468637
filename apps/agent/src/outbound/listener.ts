/** The outbound (app-facing) listener, HTTP/1.1 and HTTP/2: decodes each request into an exchange and runs the outbound stack. */
import type { IncomingMessage } from "node:http";
import type { RateLimitedLog } from "../log.ts";
import { Exchange, type ProxyResponse } from "../proxy/exchange.ts";
import { createProxyListener, type HttpFront } from "../proxy/front.ts";
import type { Stack } from "../proxy/layer.ts";
import type { HttpLimits } from "../proxy/server.ts";
import { decodeOutbound } from "./decode.ts";

export function createOutboundListener(stack: Stack, sourceValue: string, limits: HttpLimits, rateLog: RateLimitedLog): HttpFront {
  return createProxyListener(
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

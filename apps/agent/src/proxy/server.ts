/**
 * Node HTTP servers for the proxy listeners. Bad input is handled by Node's parser and limits (maxHeaderSize,
 * headersTimeout, requestTimeout) and answered here with 400 / 431 / 408 plus `x-trellis-error`, logged with a rate
 * limit; it never reaches the stacks and never crashes the agent.
 */
import { createServer, type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { PROXY_ERROR_HEADER } from "@trellis/protocol";
import { httpConnectUnsupported, httpServerBadRequest, httpServerErrors } from "../errors.ts";
import type { RateLimitedLog } from "../log.ts";
import { ProxyResponse } from "./exchange.ts";
import { upgradeResponse } from "./upgrade.ts";

export interface HttpLimits {
  maxHeaderSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxHeaderSize: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 65_000,
};

export function createProxyServer(
  listener: string,
  limits: HttpLimits,
  onRequest: (req: IncomingMessage, res: ProxyResponse) => void,
  rateLog: RateLimitedLog,
): Server<typeof import("node:http").IncomingMessage, typeof ProxyResponse> {
  const server = createServer(
    {
      ServerResponse: ProxyResponse,
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks headersTimeout/requestTimeout; a fraction of the shortest so 408 is timely.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4))),
      requireHostHeader: false,
      noDelay: true,
    },
    onRequest as never,
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? "";
    if (code === "ECONNRESET" || code === "EPIPE" || !socket.writable) {
      socket.destroy();
      return;
    }
    const kind = httpServerErrors[code] ?? httpServerBadRequest;
    rateLog.warn(`${listener}:${kind.code}`, "rejected malformed request", {
      listener,
      code: kind.code,
      status: kind.status,
      reason: code || err.message,
      remote: socket.remoteAddress,
    });
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${kind.status} ${STATUS_CODES[kind.status]}\r\n` +
        `${PROXY_ERROR_HEADER}: ${kind.kind}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
    );
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    onRequest(req, upgradeResponse(ProxyResponse, req, socket, head));
  });
  server.on("connect", (_req: IncomingMessage, socket: Socket) => {
    const e = httpConnectUnsupported;
    rateLog.warn(`${listener}:${e.code}`, "rejected CONNECT request", { listener, code: e.code, status: e.status });
    socket.on("error", () => {});
    socket.end(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\n${PROXY_ERROR_HEADER}: ${e.kind}\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
    );
  });
  return server;
}

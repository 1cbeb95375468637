/**
 * The HTTP/2 half of a proxy listener (node:http2, compatibility API): requests arrive as `Http2ServerRequest` /
 * `ProxyH2Response` pairs and enter the same stacks as HTTP/1.1 ones. Sessions are tracked so that a draining agent
 * can send GOAWAY and let the streams in flight finish (`drain`). Malformed HTTP/2 (bad frames, HPACK errors, header
 * lists over `--max-header-size`) ends the session inside nghttp2; it is logged with a rate limit, never crashes.
 */
import http2 from "node:http2";
import type { Server as NetServer } from "node:net";
import type { RateLimitedLog } from "../log.ts";
import { ProxyH2Response } from "./exchange.ts";
import type { HttpLimits } from "./server.ts";

export interface H2ProxyServer {
  /** Fed connections by the listener's front (proxy/front.ts); it never listens itself. */
  readonly server: NetServer;
  /** GOAWAY on every session: no new streams, the open ones finish. */
  drain(): void;
  /** Destroys every session (after the grace). */
  destroyAll(): void;
  sessionCount(): number;
}

export function createH2ProxyServer(
  listener: string,
  limits: HttpLimits,
  onRequest: (req: http2.Http2ServerRequest, res: ProxyH2Response) => void,
  rateLog: RateLimitedLog,
): H2ProxyServer {
  const server = http2.createServer(
    {
      Http2ServerResponse: ProxyH2Response,
      maxSessionMemory: 64,
      settings: { maxConcurrentStreams: 1000, maxHeaderListSize: limits.maxHeaderSize, initialWindowSize: 1 << 20 },
    },
    onRequest as never,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  let draining = false;
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    // A whole connection's receive window, beyond the 64 KiB default: streams of one session share it.
    session.once("localSettings", () => session.setLocalWindowSize(8 << 20));
    session.on("close", () => sessions.delete(session));
    session.on("error", (err: NodeJS.ErrnoException) => {
      rateLog.warn(`${listener}:h2`, "HTTP/2 session error", { listener, reason: err.code ?? err.message });
    });
    // An idle connection (no frame for the keep-alive timeout) is closed gracefully, as HTTP/1.1 keep-alive ones are.
    session.setTimeout(limits.keepAliveTimeoutMs, () => session.close());
    if (draining) session.close();
  });
  server.on("sessionError", (err: NodeJS.ErrnoException) => {
    rateLog.warn(`${listener}:h2`, "rejected malformed HTTP/2", { listener, reason: err.code ?? err.message });
  });
  return {
    server,
    drain() {
      draining = true;
      for (const s of sessions) s.close();
    },
    destroyAll() {
      for (const s of sessions) s.destroy();
    },
    sessionCount: () => sessions.size,
  };
}

/**
 * One port, both protocols: a listener's connections are sniffed for the HTTP/2 connection preface (prior knowledge,
 * RFC 9113 §3.4) and handed to the HTTP/2 or the HTTP/1.1 server, as linkerd2-proxy's protocol detection does. Over TLS
 * the ALPN result decides (`h2` / `http/1.1`), with the same sniff when the client offered no ALPN.
 */
import type { Server as HttpServer, IncomingMessage } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { RateLimitedLog } from "../log.ts";
import type { ProxyResponse } from "./exchange.ts";
import { createH2ProxyServer, type H2ProxyServer } from "./h2-server.ts";
import { Replayed } from "./replayed.ts";
import { createProxyServer, type HttpLimits } from "./server.ts";

export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** `h2` once the whole preface is there, `h1` at the first byte that differs, null while undecided. */
export function sniffProtocol(first: Buffer): "h1" | "h2" | null {
  const n = Math.min(first.length, H2_PREFACE.length);
  if (n === 0) return null;
  if (first.compare(H2_PREFACE, 0, n, 0, n) !== 0) return "h1";
  return n === H2_PREFACE.length ? "h2" : null;
}

export class HttpFront {
  constructor(
    readonly h1: HttpServer,
    readonly h2: H2ProxyServer,
    /** A connection that has not shown which protocol it speaks by then is closed (as a slow request head would be). */
    private readonly sniffTimeoutMs: number,
  ) {}

  /** A `net.Server` that hands every connection it accepts to `accept` (the plain listener's door). */
  door(): net.Server {
    return net.createServer({ noDelay: true }, (sock) => {
      sock.on("error", () => {});
      this.accept(sock);
    });
  }

  /** Shutdown: the HTTP/1.1 server closes idle connections, HTTP/2 sessions get GOAWAY (streams in flight finish). */
  drain(): void {
    this.h1.close(() => {}); // stops its timeout checks; it was never listening itself
    this.h1.closeIdleConnections();
    this.h2.drain();
  }

  /** After the grace: everything still open is closed. */
  destroyAll(): void {
    this.h1.closeAllConnections();
    this.h2.destroyAll();
  }

  /** Starts the HTTP/1.1 server's header/request timeout checks (it never listens itself). */
  started(): void {
    this.h1.emit("listening");
  }

  /** A TLS connection: ALPN picks the server; without ALPN the bytes do. */
  acceptTls(sock: TLSSocket): void {
    if (sock.alpnProtocol === "h2") this.h2.server.emit("connection", sock);
    else if (sock.alpnProtocol === "http/1.1") this.h1.emit("connection", sock);
    else this.accept(sock);
  }

  /** A plaintext connection (or TLS without ALPN): reads until the preface is seen or ruled out, then hands it over. */
  accept(sock: Duplex, first: Buffer | null = null): void {
    let seen = first;
    let timer: NodeJS.Timeout | null = null;
    const decide = (): boolean => {
      const proto = seen === null ? null : sniffProtocol(seen);
      if (proto === null) return false;
      if (timer !== null) clearTimeout(timer);
      sock.off("data", onData);
      sock.pause();
      if (proto === "h2") {
        // A socket with a native handle goes to nghttp2 as it is (node feeds it the bytes put back with unshift, then
        // reads the handle itself); anything else through a replaying stream, which node wraps in a slower JS socket.
        if ((sock as { _handle?: unknown })._handle) {
          sock.unshift(seen!);
          this.h2.server.emit("connection", sock);
        } else this.h2.server.emit("connection", new Replayed(sock, seen!));
        return true;
      }
      sock.unshift(seen!);
      this.h1.emit("connection", sock);
      sock.resume();
      return true;
    };
    const onData = (chunk: Buffer) => {
      seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
      decide();
    };
    if (decide()) return;
    timer = setTimeout(() => sock.destroy(), this.sniffTimeoutMs);
    sock.once("close", () => clearTimeout(timer!));
    sock.on("data", onData);
    sock.resume();
  }
}

/** Both protocols on one listener: HTTP/1.1 and HTTP/2 servers behind one front (proxy/front.ts), one request handler. */
export function createProxyListener(
  listener: string,
  limits: HttpLimits,
  onRequest: (req: IncomingMessage, res: ProxyResponse) => void,
  rateLog: RateLimitedLog,
): HttpFront {
  const h1 = createProxyServer(listener, limits, onRequest, rateLog);
  // An HTTP/2 request/response pair goes the same way: the exchange tells the two apart (`Exchange.h2`).
  const h2 = createH2ProxyServer(listener, limits, onRequest as never, rateLog);
  return new HttpFront(h1, h2, limits.headersTimeoutMs);
}

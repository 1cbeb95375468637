/**
 * The outbound listener's front door in capture mode. Redirected connections arrive here whatever they speak, and
 * Node cannot read SO_ORIGINAL_DST, so the agent only knows where a connection was going from what it says: HTTP's
 * Host / `:authority`. The first bytes are sniffed before the HTTP server sees them:
 * - an HTTP/1.x request line or the HTTP/2 preface → handed to the outbound listener (Host / `:authority` picks the
 *   service; an unknown name gets 503 `unknown-service` there);
 * - anything else (TLS, a database protocol…) → closed at once;
 * - nothing within the headers timeout (a server-speaks-first protocol such as SMTP or MySQL) → closed.
 * Each refusal is logged (rate-limited, with the reason and how to exclude the port) and counted in
 * `trellis_proxy_errors_total{listener="outbound",error="non-http"}`. Never a silent hang, never a guess.
 */
import net from "node:net";
import { ProxyErrorKind } from "../errors.ts";
import type { RateLimitedLog } from "../log.ts";
import type { HttpFront } from "../proxy/front.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/** Whether a connection's first bytes can be the start of an HTTP/1.x request. */
export function looksLikeHttp(first: Buffer): boolean {
  if (isH2Preface(first)) return false;
  let i = 0;
  while (i < first.length && i <= 20 && first[i] >= 65 && first[i] <= 90) i++; // method token: A–Z
  if (i === 0 || i > 20) return false;
  return i === first.length || first[i] === 32; // "GET " … or a chunk that ends inside the method
}

export function isH2Preface(first: Buffer): boolean {
  const n = Math.min(first.length, H2_PREFACE.length);
  return n >= 4 && first.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
}

export function whyNotHttp(first: Buffer | null): string {
  if (first === null) return "the client sent nothing (a server-speaks-first protocol?)";
  if (isH2Preface(first)) return "an incomplete HTTP/2 connection preface";
  if (first[0] === 0x16) return "TLS: call http://<service>; the agents add mTLS between pods";
  return "not an HTTP request";
}

export function createCaptureFront(http: HttpFront, sniffTimeoutMs: number, proxyErrors: ProxyErrorCounter, rateLog: RateLimitedLog): net.Server {
  const refuse = (sock: net.Socket, first: Buffer | null) => {
    proxyErrors.count("outbound", ProxyErrorKind.nonHttp);
    rateLog.warn("outbound:non-http", "captured connection refused: only HTTP can be routed in capture mode", {
      code: "TRELLIS_CAPTURE_NON_HTTP",
      reason: whyNotHttp(first),
      remote: `${sock.remoteAddress}:${sock.remotePort}`,
      hint: "exclude its destination port with init-capture --exclude-outbound-ports",
    });
    sock.destroy();
  };
  return net.createServer({ noDelay: true }, (sock) => {
    sock.on("error", () => {});
    const timer = setTimeout(() => refuse(sock, null), sniffTimeoutMs);
    sock.once("data", (first: Buffer) => {
      clearTimeout(timer);
      sock.pause();
      if (!looksLikeHttp(first) && !isH2Preface(first)) return refuse(sock, first);
      http.accept(sock, first); // HTTP/1.1, or HTTP/2 with prior knowledge (its :authority picks the service)
    });
    sock.once("close", () => clearTimeout(timer));
  });
}

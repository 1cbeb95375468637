/**
 * The inbound listener's front door: a `net.Server` that decides, per connection, how it is spoken to, then hands the
 * (decrypted) connection to the inbound HTTP server. The mTLS mode of this agent's own service (from the snapshot)
 * is read per connection, so mode changes apply without restarting the listener.
 *
 * - STRICT: every connection is TLS with a client certificate from the mesh CA (OpenSSL verifies chain and validity:
 *   foreign-CA and expired certificates fail the handshake). Plaintext never reaches HTTP. No sniffing: the socket's
 *   handle goes to TLS directly (the fast path).
 * - PERMISSIVE / DISABLE: the first byte is sniffed — 0x16 (a TLS handshake record) → mTLS as above, anything else →
 *   plaintext HTTP (HTTP/2 by its preface, else HTTP/1.1; over TLS, ALPN `h2` / `http/1.1` decides). Callers only start TLS when the destination's mode is STRICT or PERMISSIVE; the inbound side
 *   still terminating TLS in DISABLE means a mode change never races callers that switched a moment earlier.
 *   Plaintext sockets accepted before a switch to STRICT are refused per request by the inbound stack's mtls layer.
 *
 * The caller's SPIFFE id is read from the peer certificate once per connection and cached on the socket
 * (`trellisPeer`), so requests read a string, nothing more.
 */
import net from "node:net";
import tls from "node:tls";
import type { MtlsMode } from "@trellis/protocol";
import type { RateLimitedLog } from "../log.ts";
import type { HttpFront } from "../proxy/front.ts";
import { Replayed } from "../proxy/replayed.ts";
import type { Identity } from "./identity.ts";
import { spiffeIdOfCert } from "./spiffe.ts";

export interface PeerSocket {
  encrypted?: boolean;
  trellisPeer?: string | null;
}

export class InboundFront {
  readonly server: net.Server;
  private readonly tlsServer: tls.Server;
  mode: MtlsMode = "DISABLE";
  handshakeFailures = 0;
  plaintextRefused = 0;

  constructor(
    private readonly http: HttpFront,
    private readonly identity: Identity,
    private readonly rateLog: RateLimitedLog,
  ) {
    this.tlsServer = tls.createServer({
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      // HTTP/2 between agents (one multiplexed connection per endpoint) or HTTP/1.1 (upgrades, older agents).
      ALPNProtocols: ["h2", "http/1.1"],
      handshakeTimeout: 10_000,
      ...(identity.serverOptions ?? {}),
    });
    identity.onChange(() => {
      if (identity.serverOptions) this.tlsServer.setSecureContext(identity.serverOptions);
    });
    this.tlsServer.on("secureConnection", (s: tls.TLSSocket & PeerSocket) => {
      s.trellisPeer = spiffeIdOfCert(s.getPeerX509Certificate());
      this.http.acceptTls(s);
    });
    this.tlsServer.on("tlsClientError", (err: NodeJS.ErrnoException, s: tls.TLSSocket) => {
      this.handshakeFailures++;
      this.rateLog.warn("inbound:tls", "inbound TLS handshake failed", { reason: err.code ?? err.message, mode: this.mode });
      s.destroy();
    });
    this.server = net.createServer({ noDelay: true }, (sock) => this.onConnection(sock));
  }

  private onConnection(sock: net.Socket): void {
    sock.on("error", () => {});
    if (this.mode === "STRICT") {
      if (!this.identity.serverOptions) return void sock.destroy();
      this.tlsServer.emit("connection", sock);
      return;
    }
    sock.once("data", (first: Buffer) => {
      sock.pause();
      if (first[0] === 0x16) {
        if (!this.identity.serverOptions) return void sock.destroy();
        this.tlsServer.emit("connection", new Replayed(sock, first));
        return;
      }
      if (this.mode !== "DISABLE" && this.mode !== "PERMISSIVE") {
        this.plaintextRefused++;
        return void sock.destroy();
      }
      (sock as net.Socket & PeerSocket).trellisPeer = null;
      this.http.accept(sock, first); // h2c (prior knowledge) or HTTP/1.1
    });
  }
}

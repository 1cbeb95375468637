/**
 * The inbound listener's front door: a `net.Server` that decides, per connection, how it is spoken to, then hands the
 * (decrypted) connection to the inbound HTTP server. The mTLS mode of this agent's own service (from the snapshot)
 * is read per connection, so mode changes apply without restarting the listener.
 *
 * - STRICT: every connection is TLS with a client certificate from the mesh CA (OpenSSL verifies chain and validity:
 *   foreign-CA and expired certificates fail the handshake). Plaintext never reaches HTTP. No sniffing: the socket's
 *   handle goes to TLS directly (the fast path).
 * - PERMISSIVE / DISABLE: the first byte is sniffed — 0x16 (a TLS handshake record) → mTLS as above, anything else →
 *   plaintext HTTP. Callers only start TLS when the destination's mode is STRICT or PERMISSIVE; the inbound side
 *   still terminating TLS in DISABLE means a mode change never races callers that switched a moment earlier.
 *   Plaintext sockets accepted before a switch to STRICT are refused per request by the inbound stack's mtls layer.
 *
 * The caller's SPIFFE id is read from the peer certificate once per connection and cached on the socket
 * (`trellisPeer`), so requests read a string, nothing more.
 */
import type { Server as HttpServer } from "node:http";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import type { MtlsMode } from "@trellis/protocol";
import type { RateLimitedLog } from "../log.ts";
import type { Identity } from "./identity.ts";
import { spiffeIdOfCert } from "./spiffe.ts";

export interface PeerSocket {
  encrypted?: boolean;
  trellisPeer?: string | null;
}

/** A socket whose first chunk was already read: replays it, then relays. TLS is layered on top of it (sniffed path). */
class Replayed extends Duplex {
  constructor(
    private readonly sock: net.Socket,
    first: Buffer,
  ) {
    super();
    this.push(first);
    sock.on("data", (d) => {
      if (!this.push(d)) sock.pause();
    });
    sock.on("end", () => this.push(null));
    sock.on("error", (e) => this.destroy(e));
    sock.on("close", () => this.destroy());
  }
  get remoteAddress() {
    return this.sock.remoteAddress;
  }
  get remotePort() {
    return this.sock.remotePort;
  }
  override _read(): void {
    this.sock.resume();
  }
  override _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sock.write(chunk, enc, cb);
  }
  override _final(cb: () => void): void {
    this.sock.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.sock.destroy();
    cb(err);
  }
}

export class InboundFront {
  readonly server: net.Server;
  private readonly tlsServer: tls.Server;
  mode: MtlsMode = "DISABLE";
  handshakeFailures = 0;
  plaintextRefused = 0;

  constructor(
    private readonly http: HttpServer,
    private readonly identity: Identity,
    private readonly rateLog: RateLimitedLog,
  ) {
    this.tlsServer = tls.createServer({
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      handshakeTimeout: 10_000,
      ...(identity.serverOptions ?? {}),
    });
    identity.onChange(() => {
      if (identity.serverOptions) this.tlsServer.setSecureContext(identity.serverOptions);
    });
    this.tlsServer.on("secureConnection", (s: tls.TLSSocket & PeerSocket) => {
      s.trellisPeer = spiffeIdOfCert(s.getPeerX509Certificate());
      this.http.emit("connection", s);
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
      sock.unshift(first);
      this.http.emit("connection", sock);
      sock.resume();
    });
  }
}

import { Duplex } from "node:stream";

/**
 * A socket whose first bytes were already read (sniffed): replays them, then relays. Node's TLS and HTTP/2 read a
 * socket's handle directly and would never see bytes put back with `unshift`; over this Duplex they read through JS.
 */
export class Replayed extends Duplex {
  constructor(
    private readonly sock: Duplex & { remoteAddress?: string; remotePort?: number },
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
  /** A TLS socket's facts pass through (the inbound stack reads them per request: mTLS, the caller's identity). */
  get encrypted(): boolean | undefined {
    return (this.sock as { encrypted?: boolean }).encrypted;
  }
  get trellisPeer(): string | null | undefined {
    return (this.sock as { trellisPeer?: string | null }).trellisPeer;
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

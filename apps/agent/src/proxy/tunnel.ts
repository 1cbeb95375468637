/**
 * A tunnel: after a 101, the client's socket and the upstream's are piped both ways as raw bytes. Backpressure is
 * pipe's; an end in one direction is relayed as a half-close; an error, or a tunnel that stops moving for `idleMs`,
 * closes both sides. `onClose` runs once, after both sockets closed, with the bytes moved each way.
 */
import type { Duplex } from "node:stream";

export interface TunnelEnd {
  /** Bytes from the upstream to the client, and from the client to the upstream. */
  onTunnelClosed(bytesDown: number, bytesUp: number): void;
}

/** Every open tunnel of this process: the HTTP servers no longer track upgraded sockets, so shutdown closes these. */
const open = new Set<Tunnel>();

/** Closes every open tunnel (agent shutdown, once its grace period is over). */
export function closeAllTunnels(): void {
  for (const t of open) t.destroy();
}

export class Tunnel {
  bytesDown = 0;
  bytesUp = 0;
  private sockets = 2;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Duplex,
    private readonly idleMs: number,
    private readonly end: TunnelEnd,
  ) {
    const closeBoth = (): void => this.destroy();
    const closed = (): void => this.closed();
    for (const s of [client, upstream]) {
      s.on("error", closeBoth);
      s.on("close", closed);
    }
    client.on("close", closeBoth);
    upstream.on("close", closeBoth);
    client.on("data", (c: Buffer) => {
      this.bytesUp += c.length;
      this.moved();
    });
    upstream.on("data", (c: Buffer) => {
      this.bytesDown += c.length;
      this.moved();
    });
    client.pipe(upstream);
    upstream.pipe(client);
    this.moved();
    open.add(this);
  }

  /** Closes both sides (an error on one, the idle timeout, or the agent shutting down). */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private moved(): void {
    if (this.idleMs <= 0) return;
    if (this.idleTimer === null) this.idleTimer = setTimeout(() => this.destroy(), this.idleMs);
    else this.idleTimer.refresh();
  }

  private closed(): void {
    if (--this.sockets > 0) return;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    open.delete(this);
    this.end.onTunnelClosed(this.bytesDown, this.bytesUp);
  }
}

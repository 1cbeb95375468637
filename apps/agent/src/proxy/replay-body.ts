/**
 * A request body kept for a second send (a retry, a mirror), as Linkerd does: up to REPLAY_BODY_LIMIT (64 KiB) it is
 * read into one Buffer before the first attempt, which every attempt can send again. A body that grows past the
 * limit (a large content-length, or an unknown-length body while it arrives) is never replayed: what was read so far
 * goes first into a stream that then carries the rest of the request as it arrives, so nothing beyond the limit is
 * ever held. Only requests whose policy could replay them come here; every other body streams straight through.
 *
 * The exchange waits (its layer returned false) until `bodyReady`; the call then continues with `ex.bodySource` set:
 * a Buffer (replayable) or a stream (not). A client that goes away meanwhile ends the exchange with 499.
 */
import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import { CLIENT_CLOSED_STATUS, errors } from "../errors.ts";
import type { Exchange } from "./exchange.ts";

export const REPLAY_BODY_LIMIT = 64 * 1024;

/** The layer that waits for the body (it resumes the exchange itself). */
export interface BodyWaiter {
  bodyReady(ex: Exchange): void;
}

/** Whether the exchange carries a body that can be sent again (already buffered within the limit). */
export function isReplayable(ex: Exchange): boolean {
  return !ex.hasBody || Buffer.isBuffer(ex.bodySource);
}

class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(
    private readonly ex: Exchange,
    private readonly waiter: BodyWaiter,
    private readonly limit: number,
  ) {
    const req = ex.req;
    req.on("data", this.onData);
    req.once("end", this.onEnd);
    req.once("error", this.onGone);
    req.once("close", this.onGone);
  }

  private detach(req: IncomingMessage): void {
    req.off("data", this.onData);
    req.off("end", this.onEnd);
    req.off("error", this.onGone);
    req.off("close", this.onGone);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size <= this.limit) return;
    // Over the limit: stop holding; the prefix read so far, then the rest as it arrives (pipe's backpressure).
    const req = this.ex.req;
    req.pause();
    this.detach(req);
    const rest = new PassThrough();
    for (const c of this.chunks) rest.write(c);
    this.chunks.length = 0;
    req.pipe(rest);
    this.settle(rest);
  };

  private readonly onEnd = (): void => {
    this.detach(this.ex.req);
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks.length = 0;
    this.settle(body);
  };

  /** The client's request broke or closed before its body ended. */
  private readonly onGone = (): void => {
    this.detach(this.ex.req);
    this.chunks.length = 0;
    this.ex.clientGone = true;
    this.settle(null);
  };

  private settle(body: Buffer | PassThrough | null): void {
    if (this.settled) return;
    this.settled = true;
    const ex = this.ex;
    if (ex.isDone()) return; // answered meanwhile (the call's timeout)
    if (body === null || ex.clientGone) {
      ex.status = CLIENT_CLOSED_STATUS;
      ex.error = errors.clientClosed();
      ex.stack!.complete(ex);
      return;
    }
    ex.bodySource = body;
    this.waiter.bodyReady(ex);
  }
}

/** Reads the exchange's body for replay (see above); `waiter.bodyReady` runs once it is decided. */
export function bufferBody(ex: Exchange, waiter: BodyWaiter, limit = REPLAY_BODY_LIMIT): void {
  new BodyCollector(ex, waiter, limit);
}

/**
 * The one middleware shape shared by the outbound and inbound stacks (Envoy-filter-like, no per-request closures).
 *
 * - `onRequest` runs in stack order. Returning `true` hands the exchange to the next layer; returning `false` means
 *   the layer took it over: it answered (via `ex.fail`) or will resume it asynchronously (the terminal connect layer).
 * - `onFailure` runs in reverse order, starting at the layer holding the exchange, when an attempt fails before the
 *   exchange is finished. A layer returns `true` when it handled the failure by resuming the exchange (the balancer
 *   retrying a refused connection on another endpoint); otherwise the failure travels up and becomes the response.
 * - `onResponseHead` runs in reverse order, starting at the layer holding the exchange, when an attempt's response
 *   head arrives (before anything is relayed). A layer returns `true` to discard this answer: the exchange drains it
 *   and reports a `retriable-status` failure when it ends (the retry layer's decision, made and paid for there).
 * - `onComplete` runs once per exchange, in reverse order, for every layer the exchange entered.
 */
import type { TrellisError } from "@trellis/protocol";
import type { Driver, Exchange } from "./exchange.ts";

export interface Layer {
  readonly name: string;
  onRequest(ex: Exchange): boolean;
  onResponseHead?(ex: Exchange, status: number): boolean;
  onFailure?(ex: Exchange, err: TrellisError): boolean;
  onComplete?(ex: Exchange): void;
}

export class Stack implements Driver {
  readonly layers: readonly Layer[];
  /** Indexes of the layers with an onResponseHead hook (most stacks have none or one). */
  private readonly headHooks: readonly number[];

  constructor(layers: Layer[]) {
    if (layers.length === 0) throw new Error("empty stack");
    this.layers = Object.freeze(layers.slice());
    this.headHooks = Object.freeze(layers.flatMap((l, i) => (l.onResponseHead !== undefined ? [i] : [])).reverse());
  }

  names(): string[] {
    return this.layers.map((l) => l.name);
  }

  run(ex: Exchange): void {
    ex.stack = this;
    this.proceed(ex, 0);
  }

  /** Continues the exchange with the layer after `layer` (used by a layer resuming after onFailure). */
  resumeAfter(ex: Exchange, layer: Layer): void {
    this.proceed(ex, this.layers.indexOf(layer) + 1);
  }

  private proceed(ex: Exchange, from: number): void {
    const layers = this.layers;
    for (let i = from; i < layers.length; i++) {
      ex.at = i;
      if (i >= ex.depth) ex.depth = i + 1;
      if (!layers[i].onRequest(ex)) return;
    }
    // No terminal layer took the exchange: a wiring bug, never a client's fault.
    throw new Error(`stack [${this.names().join(" → ")}] ended without a terminal layer`);
  }

  responseHead(ex: Exchange, status: number): boolean {
    const hooks = this.headHooks;
    for (let k = 0; k < hooks.length; k++) {
      const i = hooks[k];
      if (i <= ex.at && this.layers[i].onResponseHead!(ex, status)) return true;
    }
    return false;
  }

  fail(ex: Exchange, err: TrellisError): void {
    if (ex.isDone()) return;
    const layers = this.layers;
    for (let i = ex.at; i >= 0; i--) {
      const l = layers[i];
      if (l.onFailure?.(ex, err)) return;
    }
    ex.respondError(err);
    this.complete(ex);
  }

  complete(ex: Exchange): void {
    if (!ex.markDone()) return;
    const layers = this.layers;
    for (let i = ex.depth - 1; i >= 0; i--) {
      const l = layers[i];
      if (l.onComplete !== undefined) l.onComplete(ex);
    }
  }
}

/**
 * balance: picks the endpoint inside the subset the route chose (P2C by default), tracks its in-flight count and
 * EWMA latency, and ejects endpoints whose connections are refused — retrying the call on another endpoint, which
 * is safe because nothing of the request was sent. Up to MAX_ATTEMPTS endpoints are tried.
 */

import type { TrellisError } from "@trellis/protocol";
import type { Target } from "../config/routes.ts";
import { errors, ProxyErrorKind } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer, Stack } from "../proxy/layer.ts";
import { pickTarget } from "./pickers.ts";

const MAX_ATTEMPTS = 3;

/** Attempt failures that say something about the endpoint (its EWMA takes a failure penalty). */
const ENDPOINT_FAILURES: ReadonlySet<string> = new Set([
  ProxyErrorKind.retriableStatus,
  ProxyErrorKind.upstreamReset,
  ProxyErrorKind.upstreamProtocol,
  ProxyErrorKind.perTryTimeout,
  ProxyErrorKind.timeout,
]);

function hold(ex: Exchange, t: Target, now: number): void {
  ex.target = t;
  ex.edge = t.edge;
  ex.holdsTarget = true;
  t.ep.inflight++;
  ex.attempts++;
  ex.attemptStart = now;
}

function release(ex: Exchange): void {
  if (ex.holdsTarget) {
    ex.holdsTarget = false;
    ex.target!.ep.inflight--;
  }
}

const monotonic = (): number => performance.now();

export class BalanceLayer implements Layer {
  readonly name = "balance";

  constructor(private readonly now: () => number = monotonic) {}

  onRequest(ex: Exchange): boolean {
    const route = ex.route!;
    const subset = ex.subset!;
    // Now, not the exchange's start: a retry re-enters here later, and ejections may have ended since.
    const now = this.now();
    const t = pickTarget(subset, route.loadBalancer, now, true);
    if (t === null) {
      ex.fail(errors.noHealthyEndpoints(route.name, subset.version));
      return false;
    }
    hold(ex, t, now);
    return true;
  }

  onFailure(ex: Exchange, err: TrellisError): boolean {
    const failed = ex.target;
    if (failed === null || !ex.holdsTarget) return false;
    // The attempt is over whatever happens next (the retry layer above may start another one).
    release(ex);
    const now = this.now();
    if (err.proxyError !== ProxyErrorKind.connectRefused && err.proxyError !== ProxyErrorKind.connectFailed) {
      if (ENDPOINT_FAILURES.has(err.proxyError) && !ex.clientGone) failed.ep.failed(now - ex.attemptStart, now);
      return false;
    }
    failed.ep.eject(now);
    if (ex.attempts >= MAX_ATTEMPTS || ex.clientGone) return false;
    const next = pickTarget(ex.subset!, ex.route!.loadBalancer, now, false);
    if (next === null) return false;
    hold(ex, next, now);
    (ex.stack as Stack).resumeAfter(ex, this);
    return true;
  }

  onComplete(ex: Exchange): void {
    if (!ex.holdsTarget) return;
    const ep = ex.target!.ep;
    release(ex);
    if (ex.status <= 0) return;
    const now = this.now();
    // A 5xx answer (relayed) or a broken response is a failure of this endpoint, however fast it came.
    if (ex.failed || ex.status >= 500) ep.failed(now - ex.attemptStart, now);
    else ep.succeeded(now - ex.attemptStart, now);
  }
}

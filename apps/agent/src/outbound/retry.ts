/**
 * retry: re-dispatches a failed attempt through the same exchange — balance picks an endpoint again (ejected ones
 * are skipped), circuit and connect run again. Only what the service's policy allows (retryOn classes), only
 * bodiless idempotent requests (see policy/retry-policy.ts), never after the response started, and only while the
 * retry budget pays for it. Each attempt may have its own time limit (perTryTimeoutMs, until the response starts);
 * the service's timeoutMs (the layer above) still bounds the whole call.
 */
import type { TrellisError } from "@trellis/protocol";
import { errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer, Stack } from "../proxy/layer.ts";

function onTryTimeout(ex: Exchange): void {
  ex.tryTimer = null;
  if (ex.isDone()) return;
  ex.abandonAttempt(errors.perTryTimeout(ex.service, ex.retryPolicy!.perTryTimeoutMs));
}

function armTryTimer(ex: Exchange): void {
  const ms = ex.retryPolicy!.perTryTimeoutMs;
  if (ms > 0) ex.tryTimer = setTimeout(onTryTimeout, ms, ex);
}

function clearTryTimer(ex: Exchange): void {
  if (ex.tryTimer !== null) {
    clearTimeout(ex.tryTimer);
    ex.tryTimer = null;
  }
}

export class RetryLayer implements Layer {
  readonly name = "retry";

  onRequest(ex: Exchange): boolean {
    const rp = ex.route!.retry;
    if (rp === null) return true;
    rp.budget.deposit(Date.now());
    if (!rp.eligible(ex)) return true;
    ex.retryPolicy = rp;
    ex.retriesLeft = rp.attempts;
    armTryTimer(ex);
    return true;
  }

  onFailure(ex: Exchange, err: TrellisError): boolean {
    const rp = ex.retryPolicy;
    if (rp === null) return false;
    clearTryTimer(ex);
    if (ex.clientGone || ex.responseStarted || ex.isDone() || !rp.errorRetriable(err)) return false;
    if (err.code !== "TRELLIS_OUTBOUND_RETRIABLE_STATUS") {
      // Proxy-made failures (connect, reset, per-try timeout): this retry is decided and paid for now.
      if (ex.retriesLeft <= 0 || !rp.budget.tryWithdraw(Date.now())) return false;
      ex.retriesLeft--;
    }
    armTryTimer(ex);
    (ex.stack as Stack).resumeAfter(ex, this);
    return true;
  }

  onComplete(ex: Exchange): void {
    clearTryTimer(ex);
  }
}

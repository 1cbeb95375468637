/**
 * retry: re-dispatches a failed attempt through the same exchange — balance picks an endpoint again (ejected ones
 * are skipped), circuit and connect run again. Only what the service's policy allows (retryOn classes), only
 * idempotent requests (see policy/retry-policy.ts) whose body was kept for replay (≤ 64 KiB, read here before the
 * first attempt: proxy/replay-body.ts), never after the response started, and only while the retry budget pays
 * for it. Each attempt may have its own time limit (perTryTimeoutMs, until the response starts);
 * the service's timeoutMs (the layer above) still bounds the whole call.
 *
 * Every retry is decided here, in `mayRetry`: for a proxy-made failure (onFailure) and for a retriable status when
 * the response head arrives (onResponseHead: the answer is then drained, not relayed, and comes back as a
 * `retriable-status` failure already paid for).
 */
import type { TrellisError } from "@trellis/protocol";
import { errors, ProxyErrorKind } from "../errors.ts";
import { RetryState } from "../policy/retry-policy.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer, Stack } from "../proxy/layer.ts";
import { type BodyWaiter, bufferBody, isReplayable } from "../proxy/replay-body.ts";

function onTryTimeout(ex: Exchange): void {
  const r = ex.retry!;
  r.tryTimer = null;
  if (ex.isDone()) return;
  ex.abandonAttempt(errors.perTryTimeout(ex.service, r.policy.perTryTimeoutMs));
}

function armTryTimer(ex: Exchange, r: RetryState): void {
  const ms = r.policy.perTryTimeoutMs;
  if (ms > 0) r.tryTimer = setTimeout(onTryTimeout, ms, ex);
}

function clearTryTimer(r: RetryState): void {
  if (r.tryTimer !== null) {
    clearTimeout(r.tryTimer);
    r.tryTimer = null;
  }
}

export class RetryLayer implements Layer, BodyWaiter {
  readonly name = "retry";

  /** Wall-clock milliseconds for the budget's one-second buckets (injectable for tests). */
  constructor(private readonly now: () => number = Date.now) {}

  onRequest(ex: Exchange): boolean {
    const rp = ex.route!.retry;
    if (rp === null) return true;
    rp.budget.deposit(this.now());
    if (!rp.eligible(ex.req.method ?? "")) return true;
    if (ex.hasBody && ex.bodySource === null && rp.attempts > 0) {
      bufferBody(ex, this); // resumes in bodyReady
      return false;
    }
    this.arm(ex);
    return true;
  }

  /** The body was read (proxy/replay-body.ts): retriable if it was kept, streamed unretried if it grew too large. */
  bodyReady(ex: Exchange): void {
    this.arm(ex);
    (ex.stack as Stack).resumeAfter(ex, this);
  }

  private arm(ex: Exchange): void {
    if (!isReplayable(ex)) return;
    const rp = ex.route!.retry!;
    const r = new RetryState(rp, rp.attempts);
    ex.retry = r;
    armTryTimer(ex, r);
  }

  /** The one retry decision: allowed by the policy's count and paid for by the budget (withdrawn when true). */
  private mayRetry(ex: Exchange, r: RetryState): boolean {
    if (r.left <= 0 || ex.clientGone || !r.policy.budget.tryWithdraw(this.now())) return false;
    r.left--;
    return true;
  }

  onResponseHead(ex: Exchange, status: number): boolean {
    const r = ex.retry;
    if (r === null) return false;
    clearTryTimer(r);
    // gRPC: a trailers-only answer carries its outcome in grpc-status behind the HTTP 200.
    const retriable = r.policy.statusRetriable(status) || (ex.grpcStatus > 0 && r.policy.grpcRetriable(ex.grpcStatus));
    return retriable && this.mayRetry(ex, r);
  }

  onFailure(ex: Exchange, err: TrellisError): boolean {
    const r = ex.retry;
    if (r === null) return false;
    clearTryTimer(r);
    if (ex.clientGone || ex.responseStarted || ex.isDone() || !r.policy.errorRetriable(err)) return false;
    // A retriable status was decided and paid for in onResponseHead; proxy-made failures are decided now.
    if (err.proxyError !== ProxyErrorKind.retriableStatus && !this.mayRetry(ex, r)) return false;
    armTryTimer(ex, r);
    (ex.stack as Stack).resumeAfter(ex, this);
    return true;
  }

  onComplete(ex: Exchange): void {
    if (ex.retry !== null) clearTryTimer(ex.retry);
  }
}

/**
 * A service's retry policy compiled for the request path: flags instead of arrays, and the budget.
 *
 * What may be retried: requests without a body (nothing to replay — bodies stream through unbuffered) whose method
 * is idempotent (GET, HEAD, OPTIONS, PUT, DELETE, TRACE), or any bodiless method when the policy says
 * `nonIdempotent: true`. A retry happens only before anything of the response reached the client.
 */
import type { RetryPolicy, TrellisError } from "@trellis/protocol";
import { ProxyErrorKind as K } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import { RetryBudget } from "./retry-budget.ts";

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

export class RetryRuntime {
  readonly attempts: number;
  readonly perTryTimeoutMs: number;
  readonly nonIdempotent: boolean;
  readonly budget: RetryBudget;
  private readonly on5xx: boolean;
  private readonly onGateway: boolean;
  private readonly onConnect: boolean;
  private readonly onReset: boolean;
  private readonly on4xx: boolean;

  constructor(p: RetryPolicy) {
    this.attempts = p.attempts;
    this.perTryTimeoutMs = p.perTryTimeoutMs;
    this.nonIdempotent = p.nonIdempotent;
    this.budget = new RetryBudget(p.budget.ratio, p.budget.minRetriesPerSecond);
    const on = new Set(p.retryOn);
    this.on5xx = on.has("5xx");
    this.onGateway = on.has("gateway-error");
    this.onConnect = on.has("connect-failure");
    this.onReset = on.has("reset");
    this.on4xx = on.has("retriable-4xx");
  }

  eligible(ex: Exchange): boolean {
    if (ex.hasBody) return false;
    return this.nonIdempotent || IDEMPOTENT.has(ex.req.method ?? "");
  }

  statusRetriable(status: number): boolean {
    if (status >= 500) {
      if (this.on5xx) return true;
      return this.onGateway && status >= 502 && status <= 504;
    }
    return this.on4xx && status === 409;
  }

  errorRetriable(err: TrellisError): boolean {
    switch (err.proxyError) {
      case K.retriableStatus:
        return true; // decided (and paid for) when the status arrived
      case K.connectRefused:
      case K.connectFailed:
        return this.onConnect || this.on5xx || this.onGateway;
      case K.upstreamReset:
      case K.upstreamProtocol:
        return this.onReset || this.on5xx || this.onGateway;
      case K.perTryTimeout:
        return this.on5xx || this.onGateway;
      default:
        return false; // timeout, circuit-open, no-healthy-endpoints, fault-injected, …
    }
  }

  /**
   * Called by the exchange when an attempt's response head arrives: true = swallow this answer and try again
   * (the retry is committed and paid for here, so the answer can be discarded safely).
   */
  retryOnStatus(ex: Exchange, status: number): boolean {
    if (ex.retriesLeft <= 0 || ex.clientGone || !this.statusRetriable(status)) return false;
    if (!this.budget.tryWithdraw(Date.now())) return false;
    ex.retriesLeft--;
    return true;
  }
}

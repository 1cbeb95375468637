/**
 * A service's retry policy compiled for the request path: flags instead of arrays, and the budget. Pure decisions
 * over plain values (no exchange): outbound/retry.ts is the one place that applies them.
 *
 * What may be retried: requests whose method is idempotent (GET, HEAD, OPTIONS, PUT, DELETE, TRACE), or any method
 * when the policy says `nonIdempotent: true`, and whose body, if any, was kept for replay (≤ 64 KiB, see
 * proxy/replay-body.ts; larger bodies stream through unbuffered and are never retried). A retry happens only before
 * anything of the response reached the client.
 */
import type { RetryPolicy, TrellisError } from "@trellis/protocol";
import { ProxyErrorKind as K } from "../errors.ts";
import { RetryBudget } from "./retry-budget.ts";

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/** gRPC retryOn classes and the status each one names (as Envoy's `retry_on` for gRPC). */
const GRPC_RETRY_CLASSES: readonly (readonly [RetryPolicy["retryOn"][number], number])[] = [
  ["cancelled", 1],
  ["deadline-exceeded", 4],
  ["resource-exhausted", 8],
  ["internal", 13],
  ["unavailable", 14],
];

export class RetryRuntime {
  readonly attempts: number;
  readonly perTryTimeoutMs: number;
  readonly nonIdempotent: boolean;
  private readonly on5xx: boolean;
  private readonly onGateway: boolean;
  private readonly onConnect: boolean;
  private readonly onReset: boolean;
  private readonly on4xx: boolean;
  /** gRPC status codes that are retried (from the gRPC retryOn classes); empty for most policies. */
  private readonly grpcCodes: ReadonlySet<number>;

  readonly budget: RetryBudget;

  constructor(
    p: RetryPolicy,
    /** Canonical form of the policy: a snapshot with the same key keeps this runtime and its budget. */
    readonly key = "",
  ) {
    this.budget = new RetryBudget(p.budget.ratio, p.budget.minRetriesPerSecond);
    this.attempts = p.attempts;
    this.perTryTimeoutMs = p.perTryTimeoutMs;
    this.nonIdempotent = p.nonIdempotent;
    const on = new Set(p.retryOn);
    this.on5xx = on.has("5xx");
    this.onGateway = on.has("gateway-error");
    this.onConnect = on.has("connect-failure");
    this.onReset = on.has("reset");
    this.on4xx = on.has("retriable-4xx");
    const grpc = new Set<number>();
    for (const [cls, code] of GRPC_RETRY_CLASSES) if (on.has(cls)) grpc.add(code);
    this.grpcCodes = grpc;
  }

  /** The method allows a retry (the body's size is decided separately, once it is read). */
  eligible(method: string): boolean {
    return this.nonIdempotent || IDEMPOTENT.has(method);
  }

  statusRetriable(status: number): boolean {
    if (status >= 500) {
      if (this.on5xx) return true;
      return this.onGateway && status >= 502 && status <= 504;
    }
    return this.on4xx && status === 409;
  }

  /** A gRPC answer (trailers-only, behind HTTP 200) whose status the policy retries. */
  grpcRetriable(code: number): boolean {
    return this.grpcCodes.has(code);
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
}

/** The retry layer's per-exchange record (`ex.retry`), present only when the exchange may be retried. */
export class RetryState {
  /** Per-try timer, cleared when the response head arrives. */
  tryTimer: NodeJS.Timeout | null = null;
  constructor(
    readonly policy: RetryRuntime,
    /** Retries still allowed by the policy (the budget is asked separately). */
    public left: number,
  ) {}
}

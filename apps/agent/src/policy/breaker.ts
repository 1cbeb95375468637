/**
 * A service's circuit breaker for the request path: its limits and the calls in flight to the service from this
 * agent. One object per policy: a snapshot that leaves the policy as it was keeps it (and its count), so calls
 * started before the snapshot still count and release their slot when they end (config/routes.ts).
 */
import type { CircuitBreaker } from "@trellis/protocol";

export class BreakerState {
  /** Calls in flight to this service from this agent. */
  active = 0;
  constructor(
    readonly limits: CircuitBreaker,
    /** Canonical form of the policy it was built from. */
    readonly key: string,
  ) {}
}

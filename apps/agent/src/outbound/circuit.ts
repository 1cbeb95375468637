/**
 * circuit: the circuit breaker and the outlier detector of the chosen endpoint.
 *
 * - Breaker (per service, per agent): more than `maxRequests` calls in flight to the service, or more than
 *   `maxConnections + maxPendingRequests` to one endpoint (its pool opens at most `maxConnections`), fail fast with
 *   503 `circuit-open` instead of queueing.
 * - Outlier detection: every attempt's outcome (an answer's status, or a reset / protocol error / per-try timeout)
 *   is fed to the endpoint's state machine (upstream/outlier.ts), which ejects it after consecutive failures.
 *   Connection refusals are the balancer's business (it ejects and retries at once).
 */
import type { TrellisError } from "@trellis/protocol";
import { errors, ProxyErrorKind as K } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import { Outcome, outcomeOfStatus, recordOutcome } from "../upstream/outlier.ts";

function release(ex: Exchange): void {
  const held = ex.breaker;
  if (held !== null) {
    ex.breaker = null;
    held.active--;
  }
}

function record(ex: Exchange, outcome: Outcome, now: () => number): void {
  if (ex.outcomeRecorded) return;
  ex.outcomeRecorded = true;
  const route = ex.route!;
  const od = route.outlier;
  if (od === null || ex.target === null) return;
  recordOutcome(od, route.all.targets, ex.target.ep, outcome, now());
}

const monotonic = (): number => performance.now();

export class CircuitLayer implements Layer {
  readonly name = "circuit";

  constructor(private readonly now: () => number = monotonic) {}

  onRequest(ex: Exchange): boolean {
    const route = ex.route!;
    ex.outcomeRecorded = false;
    const breaker = route.breaker;
    if (breaker !== null) {
      const cb = breaker.limits;
      if (breaker.active >= cb.maxRequests) {
        ex.outcomeRecorded = true;
        ex.fail(errors.circuitOpen(route.name, `${breaker.active} requests in flight (maxRequests ${cb.maxRequests})`));
        return false;
      }
      // balance already counted this call in the endpoint's in-flight number.
      if (ex.target!.ep.inflight > cb.maxConnections + cb.maxPendingRequests) {
        ex.outcomeRecorded = true;
        ex.fail(
          errors.circuitOpen(
            route.name,
            `endpoint ${ex.target!.ep.address} has ${ex.target!.ep.inflight - 1} requests in flight or pending (maxConnections ${cb.maxConnections} + maxPendingRequests ${cb.maxPendingRequests})`,
          ),
        );
        return false;
      }
      breaker.active++;
      ex.breaker = breaker;
    }
    return true;
  }

  onFailure(ex: Exchange, err: TrellisError): boolean {
    release(ex);
    switch (err.proxyError) {
      case K.retriableStatus:
        record(ex, outcomeOfStatus(ex.status), this.now);
        break;
      case K.upstreamReset:
      case K.upstreamProtocol:
      case K.perTryTimeout:
        record(ex, Outcome.Gateway, this.now);
        break;
      default:
        // connect failures (balance ejects), the overall timeout, client gone: not an endpoint verdict here.
        ex.outcomeRecorded = true;
    }
    return false;
  }

  onComplete(ex: Exchange): void {
    release(ex);
    if (ex.status > 0 && !ex.clientGone && ex.error === null) record(ex, outcomeOfStatus(ex.status), this.now);
  }
}

/**
 * Outlier detection: a small state machine per endpoint, fed with the classified outcome of every attempt.
 *
 *   in service --(consecutive5xx or consecutiveGatewayErrors reached, ejected share allows)--> ejected
 *   ejected    --(ejection time elapsed: base × multiplier, capped)----------------------------> in service
 *
 * The multiplier grows by one with each ejection and decays by one for every `intervalMs` the endpoint spends back
 * in service (computed when it is next ejected: no timers). Ejected endpoints are skipped by the pickers; while
 * ejected an endpoint receives no traffic (unless every endpoint of the subset is ejected: panic mode).
 */
import type { OutlierDetection } from "@trellis/protocol";
import type { Target } from "../config/routes.ts";
import type { EndpointState } from "./endpoints.ts";

export enum Outcome {
  Success = 0,
  /** An upstream 5xx other than 502/503/504. */
  Error5xx = 1,
  /** 502/503/504 answered, reset, protocol error or per-try timeout. */
  Gateway = 2,
}

export function outcomeOfStatus(status: number): Outcome {
  if (status < 500) return Outcome.Success;
  if (status >= 502 && status <= 504) return Outcome.Gateway;
  return Outcome.Error5xx;
}

/** Feeds one outcome; returns true when the endpoint was ejected by it. */
export function recordOutcome(od: OutlierDetection, all: readonly Target[], ep: EndpointState, outcome: Outcome, now: number): boolean {
  if (outcome === Outcome.Success) {
    ep.consecutive5xx = 0;
    ep.consecutiveGateway = 0;
    return false;
  }
  ep.consecutive5xx++;
  if (outcome === Outcome.Gateway) ep.consecutiveGateway++;
  const trip =
    (od.consecutive5xx > 0 && ep.consecutive5xx >= od.consecutive5xx) ||
    (od.consecutiveGatewayErrors > 0 && ep.consecutiveGateway >= od.consecutiveGatewayErrors);
  if (!trip || ep.isEjected(now)) return false;
  if (!ejectionAllowed(od, all, now)) return false;
  eject(od, ep, now);
  return true;
}

function ejectionAllowed(od: OutlierDetection, all: readonly Target[], now: number): boolean {
  let ejected = 0;
  for (const t of all) if (t.ep.isEjected(now)) ejected++;
  if (ejected === 0) return true; // one endpoint may always be ejected
  return ((ejected + 1) * 100) / all.length <= od.maxEjectionPercent;
}

function eject(od: OutlierDetection, ep: EndpointState, now: number): void {
  let m = ep.ejections;
  if (m > 0 && ep.ejectedUntil > 0 && now > ep.ejectedUntil) m = Math.max(0, m - Math.floor((now - ep.ejectedUntil) / od.intervalMs));
  m++;
  ep.ejections = m;
  ep.ejectedTotal++;
  ep.ejectedUntil = now + Math.min(od.baseEjectionTimeMs * m, Math.max(od.maxEjectionTimeMs, od.baseEjectionTimeMs));
  ep.consecutive5xx = 0;
  ep.consecutiveGateway = 0;
}

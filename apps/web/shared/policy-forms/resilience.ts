/**
 * Pure form models of the resilience policies (timeouts, retries, circuit breaking, outlier detection, fault
 * injection, load balancer): policy → form fields → patch. Unset number fields take the schema's defaults.
 */
import { type LoadBalancer, RETRY_ON, type RetryOn } from "@trellis/protocol";
import type { PolicyFormDef } from "./form-def.ts";
import { defined, numberOrUnset, textOf } from "./numbers.ts";

export interface TimeoutsModel {
  timeoutMs: string;
  idleTimeoutMs: string;
}

export const timeoutsForm: PolicyFormDef<TimeoutsModel> = {
  keys: ["timeoutMs", "idleTimeoutMs"],
  fromPolicy: (p) => ({ timeoutMs: textOf(p.timeoutMs), idleTimeoutMs: textOf(p.idleTimeoutMs) }),
  toPatch: (m) => ({ timeoutMs: numberOrUnset(m.timeoutMs), idleTimeoutMs: numberOrUnset(m.idleTimeoutMs) }),
};

export interface RetriesModel {
  enabled: boolean;
  attempts: string;
  perTryTimeoutMs: string;
  retryOn: RetryOn[];
  nonIdempotent: boolean;
  budgetRatio: string;
  budgetMinRetriesPerSecond: string;
}

const DEFAULT_RETRY_ON: RetryOn[] = ["5xx", "connect-failure", "reset"];

export const retriesForm: PolicyFormDef<RetriesModel> = {
  keys: ["retries"],
  fromPolicy: ({ retries: r }) => ({
    enabled: r !== undefined,
    attempts: textOf(r?.attempts ?? 2),
    perTryTimeoutMs: textOf(r?.perTryTimeoutMs),
    retryOn: r ? [...r.retryOn] : [...DEFAULT_RETRY_ON],
    nonIdempotent: r?.nonIdempotent ?? false,
    budgetRatio: textOf(r?.budget.ratio),
    budgetMinRetriesPerSecond: textOf(r?.budget.minRetriesPerSecond),
  }),
  toPatch: (m) => {
    if (!m.enabled) return { retries: undefined };
    const budget = defined({ ratio: numberOrUnset(m.budgetRatio), minRetriesPerSecond: numberOrUnset(m.budgetMinRetriesPerSecond) });
    return {
      retries: defined({
        attempts: numberOrUnset(m.attempts),
        perTryTimeoutMs: numberOrUnset(m.perTryTimeoutMs),
        // In the schema's order, so that the same choice always reads the same.
        retryOn: RETRY_ON.filter((c) => m.retryOn.includes(c)),
        nonIdempotent: m.nonIdempotent || undefined,
        budget: Object.keys(budget).length > 0 ? budget : undefined,
      }),
    };
  },
};

export interface CircuitBreakerModel {
  enabled: boolean;
  maxConnections: string;
  maxPendingRequests: string;
  maxRequests: string;
}

export const circuitBreakerForm: PolicyFormDef<CircuitBreakerModel> = {
  keys: ["circuitBreaker"],
  fromPolicy: ({ circuitBreaker: c }) => ({
    enabled: c !== undefined,
    maxConnections: textOf(c?.maxConnections),
    maxPendingRequests: textOf(c?.maxPendingRequests),
    maxRequests: textOf(c?.maxRequests),
  }),
  toPatch: (m) => ({
    circuitBreaker: m.enabled
      ? defined({
          maxConnections: numberOrUnset(m.maxConnections),
          maxPendingRequests: numberOrUnset(m.maxPendingRequests),
          maxRequests: numberOrUnset(m.maxRequests),
        })
      : undefined,
  }),
};

export const OUTLIER_FIELDS = [
  "consecutive5xx",
  "consecutiveGatewayErrors",
  "intervalMs",
  "baseEjectionTimeMs",
  "maxEjectionTimeMs",
  "maxEjectionPercent",
] as const;
export type OutlierField = (typeof OUTLIER_FIELDS)[number];
export type OutlierModel = { enabled: boolean } & Record<OutlierField, string>;

export const outlierForm: PolicyFormDef<OutlierModel> = {
  keys: ["outlierDetection"],
  fromPolicy: ({ outlierDetection: o }) => {
    const model = { enabled: o !== undefined } as OutlierModel;
    for (const f of OUTLIER_FIELDS) model[f] = textOf(o?.[f]);
    return model;
  },
  toPatch: (m) => {
    if (!m.enabled) return { outlierDetection: undefined };
    const out: Record<string, number | undefined> = {};
    for (const f of OUTLIER_FIELDS) out[f] = numberOrUnset(m[f]);
    return { outlierDetection: defined(out) };
  },
};

export interface FaultModel {
  delayEnabled: boolean;
  delayPercent: string;
  delayMs: string;
  abortEnabled: boolean;
  abortPercent: string;
  abortStatus: string;
}

export const faultForm: PolicyFormDef<FaultModel> = {
  keys: ["faultInjection"],
  fromPolicy: ({ faultInjection: f }) => ({
    delayEnabled: f?.delay !== undefined,
    delayPercent: textOf(f?.delay?.percent ?? 100),
    delayMs: textOf(f?.delay?.ms ?? 100),
    abortEnabled: f?.abort !== undefined,
    abortPercent: textOf(f?.abort?.percent ?? 100),
    abortStatus: textOf(f?.abort?.status ?? 503),
  }),
  toPatch: (m) => {
    if (!m.delayEnabled && !m.abortEnabled) return { faultInjection: undefined };
    return {
      faultInjection: defined({
        delay: m.delayEnabled ? { percent: numberOrUnset(m.delayPercent), ms: numberOrUnset(m.delayMs) } : undefined,
        abort: m.abortEnabled ? { percent: numberOrUnset(m.abortPercent), status: numberOrUnset(m.abortStatus) } : undefined,
      }),
    };
  },
};

export interface LoadBalancerModel {
  /** "" = the default (p2c). */
  loadBalancer: LoadBalancer | "";
}

export const loadBalancerForm: PolicyFormDef<LoadBalancerModel> = {
  keys: ["loadBalancer"],
  fromPolicy: (p) => ({ loadBalancer: p.loadBalancer ?? "" }),
  toPatch: (m) => ({ loadBalancer: m.loadBalancer === "" ? undefined : m.loadBalancer }),
};

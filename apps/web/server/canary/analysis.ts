/**
 * Pure: one analysis window of a canary, classified. The canary's and the baseline's totals over the window (every
 * caller's edges into each version, from the console's live telemetry) become figures (requests, success rate, p99)
 * and a verdict against the rollout's thresholds:
 *   insufficient-data  fewer canary requests than `minRequests` (no verdict: the step waits);
 *   fail               success rate below `minSuccessRatePct`, or p99 above `maxP99Ms`;
 *   pass               otherwise.
 * The baseline's figures go with every verdict (the history's reason and the service page compare the two).
 */
import { type Histogram, quantile } from "@trellis/protocol";
import { round } from "../../shared/edge-stats.ts";
import type { Verdict } from "./machine.ts";
import type { CanarySettings } from "./settings.ts";

export interface Totals {
  requests: number;
  errors: number;
  latency: Histogram;
}

export interface VersionFigures {
  requests: number;
  /** null without requests. */
  successRatePct: number | null;
  p99Ms: number | null;
}

export interface Analysis {
  verdict: Verdict;
  canary: VersionFigures;
  baseline: VersionFigures;
  /** Why, in words: `success rate 95.8% < 99%`, `p99 612 ms > 500 ms`, `12 requests < 20`. Empty on a pass. */
  reasons: string[];
}

export function figuresOf(t: Totals): VersionFigures {
  if (t.requests <= 0) return { requests: 0, successRatePct: null, p99Ms: null };
  return {
    requests: t.requests,
    successRatePct: round(((t.requests - t.errors) / t.requests) * 100, 2),
    p99Ms: round(quantile(t.latency, 0.99), 1),
  };
}

export function analyse(settings: CanarySettings, canary: Totals, baseline: Totals): Analysis {
  const c = figuresOf(canary);
  const b = figuresOf(baseline);
  if (c.requests < settings.minRequests)
    return { verdict: "insufficient-data", canary: c, baseline: b, reasons: [`${c.requests} canary requests < ${settings.minRequests}`] };
  const reasons: string[] = [];
  if ((c.successRatePct ?? 0) < settings.minSuccessRatePct) reasons.push(`success rate ${c.successRatePct}% < ${settings.minSuccessRatePct}%`);
  if ((c.p99Ms ?? 0) > settings.maxP99Ms) reasons.push(`p99 ${c.p99Ms} ms > ${settings.maxP99Ms} ms`);
  return { verdict: reasons.length > 0 ? "fail" : "pass", canary: c, baseline: b, reasons };
}

/** One line for the history: `success 95.8% (baseline 100%), p99 48 ms (baseline 6 ms), 120 requests`. */
export function figuresText(a: Pick<Analysis, "canary" | "baseline">): string {
  const pct = (v: number | null) => (v === null ? "–" : `${v}%`);
  const ms = (v: number | null) => (v === null ? "–" : `${v} ms`);
  return `success ${pct(a.canary.successRatePct)} (baseline ${pct(a.baseline.successRatePct)}), p99 ${ms(a.canary.p99Ms)} (baseline ${ms(a.baseline.p99Ms)}), ${a.canary.requests} requests`;
}

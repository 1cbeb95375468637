/**
 * Pure: what a transition of the state machine means for the mesh and the history — the split an action sets, the
 * revision kind it is recorded as, and the reason in words (with the analysis' figures) that the history shows.
 */
import type { SplitEntry } from "@trellis/protocol";
import { type Analysis, figuresText } from "./analysis.ts";
import type { CanaryAction, CanaryEvent, CanaryState } from "./machine.ts";
import type { CanarySettings } from "./settings.ts";

export interface Pair {
  service: string;
  baseline: string;
  canary: string;
}

/** The split an action sets (null: wait changes nothing). Only the two versions take traffic. */
export function splitOf(action: CanaryAction, p: Pair): SplitEntry[] | null {
  const canaryWeight = action.type === "set-weight" ? action.weight : action.type === "promote" ? 100 : action.type === "rollback" ? 0 : null;
  if (canaryWeight === null) return null;
  return [
    { version: p.baseline, weight: 100 - canaryWeight },
    { version: p.canary, weight: canaryWeight },
  ];
}

/** The history's kind for a revision a rollout writes. */
export function revisionKind(action: CanaryAction, event: CanaryEvent | "start"): string {
  if (event === "start") return "canary-start";
  if (event.type === "abort") return "canary-abort";
  if (action.type === "promote") return "canary-promote";
  if (action.type === "rollback") return "canary-rollback";
  return "canary-step";
}

/** The actor every revision of a rollout is attributed to. */
export function canaryActor(service: string): string {
  return `canary ${service}`;
}

/** Why the rollout did what it did, in one line (the revision's summary, the rollout's message). */
export function reasonOf(
  settings: CanarySettings,
  p: Pair,
  before: CanaryState,
  after: CanaryState,
  action: CanaryAction,
  cause: { check: Analysis } | { by: string; event: "start" | "pause" | "resume" | "abort" },
): string {
  const at = `${settings.steps[before.stepIndex]}%`;
  if ("by" in cause) {
    if (cause.event === "start") return `canary ${p.canary} started by ${cause.by} at ${at} against ${p.baseline}`;
    if (cause.event === "abort") return `canary ${p.canary} aborted by ${cause.by} at ${at}: back to ${p.baseline}`;
    return `canary ${p.canary} ${cause.event === "pause" ? "paused" : "resumed"} by ${cause.by} at ${at}`;
  }
  const a = cause.check;
  const figures = figuresText(a);
  if (a.verdict === "insufficient-data") return `canary ${p.canary} waiting for data at ${at}: ${a.reasons.join(", ")}`;
  if (action.type === "promote") return `canary ${p.canary} promoted to 100%: check passed at ${at} — ${figures}`;
  if (action.type === "set-weight") return `canary ${p.canary} → ${action.weight}%: check passed at ${at} — ${figures}`;
  const failed = `${after.failedChecks}/${settings.failureThreshold} failed checks`;
  if (action.type === "rollback") return `canary ${p.canary} rolled back to ${p.baseline}: ${failed} (${a.reasons.join(", ")}) — ${figures}`;
  return `canary ${p.canary} check failed at ${at}, ${failed} (${a.reasons.join(", ")}) — ${figures}`;
}

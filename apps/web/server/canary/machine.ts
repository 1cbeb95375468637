/**
 * The canary rollout as a small pure state machine. It is fed classified analysis results (pass / fail /
 * insufficient-data, see analysis.ts) and the operator's pause / resume / abort, and answers with the one action the
 * runner carries out (set the canary's weight, promote, roll back, or wait). No clock, no I/O.
 *
 *   progressing ──pause──► paused ──resume──► progressing
 *   progressing: pass at the last step below 100% → promoted (canary 100%)
 *                pass otherwise                    → next step (set weight)
 *                fail, failed checks reach the threshold → rolled-back (baseline 100%)
 *                fail otherwise / insufficient-data → wait at this step
 *   progressing | paused ──abort──► aborted (baseline 100%)
 *   promoted, rolled-back, aborted: final.
 *
 * Failed checks count over the whole rollout (as Flagger's `threshold`): a canary that fails now and then is rolled
 * back even when some windows pass. A window without enough canary requests is not a verdict and does not count.
 */
import type { CanarySettings } from "./settings.ts";

export const CANARY_PHASES = ["progressing", "paused", "promoted", "rolled-back", "aborted"] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];
export const ACTIVE_PHASES: readonly CanaryPhase[] = ["progressing", "paused"];

export type Verdict = "pass" | "fail" | "insufficient-data";

export interface CanaryState {
  phase: CanaryPhase;
  /** Index into settings.steps of the weight the canary has now. */
  stepIndex: number;
  failedChecks: number;
}

export type CanaryEvent = { type: "check"; verdict: Verdict } | { type: "pause" } | { type: "resume" } | { type: "abort" };

export type CanaryAction =
  | { type: "set-weight"; weight: number }
  | { type: "promote" }
  | { type: "rollback" }
  /** Nothing to change in the mesh: keep the current weight (and, after a check, open the next window). */
  | { type: "wait" };

export type Transition = { ok: true; state: CanaryState; action: CanaryAction } | { ok: false; reason: string };

export function isActive(phase: CanaryPhase): boolean {
  return ACTIVE_PHASES.includes(phase);
}

/** The first state of a rollout and the action that starts it: the canary at the first step's weight. */
export function start(settings: CanarySettings): { state: CanaryState; action: CanaryAction } {
  return { state: { phase: "progressing", stepIndex: 0, failedChecks: 0 }, action: { type: "set-weight", weight: settings.steps[0] } };
}

/** The canary's weight in a state: 100 once promoted, 0 once rolled back or aborted. */
export function weightOf(settings: CanarySettings, state: CanaryState): number {
  if (state.phase === "promoted") return 100;
  if (state.phase === "rolled-back" || state.phase === "aborted") return 0;
  return settings.steps[state.stepIndex];
}

export function next(settings: CanarySettings, state: CanaryState, event: CanaryEvent): Transition {
  const wait = (s: CanaryState): Transition => ({ ok: true, state: s, action: { type: "wait" } });
  if (!isActive(state.phase)) return { ok: false, reason: `the canary is ${state.phase}` };
  switch (event.type) {
    case "pause":
      return state.phase === "paused" ? { ok: false, reason: "the canary is already paused" } : wait({ ...state, phase: "paused" });
    case "resume":
      return state.phase === "progressing" ? { ok: false, reason: "the canary is not paused" } : wait({ ...state, phase: "progressing" });
    case "abort":
      return { ok: true, state: { ...state, phase: "aborted" }, action: { type: "rollback" } };
    case "check":
      if (state.phase === "paused") return { ok: false, reason: "the canary is paused" };
      return check(settings, state, event.verdict);
  }
}

function check(settings: CanarySettings, state: CanaryState, verdict: Verdict): Transition {
  if (verdict === "insufficient-data") return { ok: true, state, action: { type: "wait" } };
  if (verdict === "fail") {
    const failedChecks = state.failedChecks + 1;
    if (failedChecks >= settings.failureThreshold)
      return { ok: true, state: { ...state, phase: "rolled-back", failedChecks }, action: { type: "rollback" } };
    return { ok: true, state: { ...state, failedChecks }, action: { type: "wait" } };
  }
  const following = state.stepIndex + 1;
  if (following >= settings.steps.length || settings.steps[following] >= 100)
    return { ok: true, state: { ...state, phase: "promoted" }, action: { type: "promote" } };
  return { ok: true, state: { ...state, stepIndex: following }, action: { type: "set-weight", weight: settings.steps[following] } };
}

/**
 * The canary state machine (server/canary/machine.ts) and the classification of an analysis window (analysis.ts):
 * every phase × event, the step walk to promotion, the failure threshold, and properties over random verdict
 * sequences (fast-check): weights only ever rise while progressing, a final phase is final, a rollback happens exactly
 * when the threshold is reached, the weight is always one of the steps, 100 or 0.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import fc from "fast-check";
import { analyse, figuresText } from "../server/canary/analysis.ts";
import {
  CANARY_PHASES,
  type CanaryEvent,
  type CanaryPhase,
  type CanaryState,
  next,
  start,
  type Verdict,
  weightOf,
} from "../server/canary/machine.ts";
import { canaryActor, reasonOf, revisionKind, splitOf } from "../server/canary/plan.ts";
import { type CanarySettings, canarySettingsSchema, DEFAULT_SETTINGS } from "../server/canary/settings.ts";

const S = DEFAULT_SETTINGS;
const check = (verdict: Verdict): CanaryEvent => ({ type: "check", verdict });

function run(settings: CanarySettings, events: CanaryEvent[]) {
  let { state, action } = start(settings);
  const actions = [action];
  for (const e of events) {
    const t = next(settings, state, e);
    if (!t.ok) continue;
    state = t.state;
    actions.push(t.action);
  }
  return { state, actions };
}

describe("canary settings", () => {
  test("defaults: 5 → 10 → 25 → 50 → 100, ≥ 99%, p99 ≤ 500 ms, 2 failed checks", () => {
    assert.deepEqual(S.steps, [5, 10, 25, 50, 100]);
    assert.equal(S.minSuccessRatePct, 99);
    assert.equal(S.maxP99Ms, 500);
    assert.equal(S.failureThreshold, 2);
    assert.ok(S.minRequests >= 1);
  });
  test("steps must ascend and start below 100", () => {
    assert.equal(canarySettingsSchema.safeParse({ steps: [10, 5] }).success, false);
    assert.equal(canarySettingsSchema.safeParse({ steps: [100] }).success, false);
    assert.equal(canarySettingsSchema.safeParse({ steps: [0, 50] }).success, false);
    assert.equal(canarySettingsSchema.safeParse({ intervalSeconds: 1 }).success, false);
    assert.deepEqual(canarySettingsSchema.parse({ steps: [20, 60] }).steps, [20, 60]);
  });
});

describe("canary state machine", () => {
  test("start: progressing at the first step's weight", () => {
    const { state, action } = start(S);
    assert.deepEqual(state, { phase: "progressing", stepIndex: 0, failedChecks: 0 });
    assert.deepEqual(action, { type: "set-weight", weight: 5 });
  });

  test("four passes walk 5 → 10 → 25 → 50 and promote to 100", () => {
    const { state, actions } = run(S, [check("pass"), check("pass"), check("pass"), check("pass")]);
    assert.deepEqual(
      actions.map((a) => (a.type === "set-weight" ? a.weight : a.type)),
      [5, 10, 25, 50, "promote"],
    );
    assert.equal(state.phase, "promoted");
    assert.equal(weightOf(S, state), 100);
  });

  test("steps without 100: a pass at the last step promotes", () => {
    const s = canarySettingsSchema.parse({ steps: [30, 60] });
    const { state, actions } = run(s, [check("pass"), check("pass")]);
    assert.deepEqual(
      actions.map((a) => a.type),
      ["set-weight", "set-weight", "promote"],
    );
    assert.equal(state.phase, "promoted");
  });

  test("insufficient data waits at the step and counts nothing", () => {
    const t = next(S, start(S).state, check("insufficient-data"));
    assert.ok(t.ok);
    assert.deepEqual(t.state, start(S).state);
    assert.deepEqual(t.action, { type: "wait" });
  });

  test("a failed check waits; the threshold-th rolls back (failures count over the whole rollout)", () => {
    const { state, actions } = run(S, [check("fail"), check("pass"), check("fail")]);
    assert.deepEqual(
      actions.map((a) => a.type),
      ["set-weight", "wait", "set-weight", "rollback"],
    );
    assert.equal(state.phase, "rolled-back");
    assert.equal(state.failedChecks, 2);
    assert.equal(weightOf(S, state), 0);
  });

  test("pause / resume / abort by hand; checks are refused while paused", () => {
    const s0 = start(S).state;
    const paused = next(S, s0, { type: "pause" });
    assert.ok(paused.ok);
    assert.equal(paused.state.phase, "paused");
    assert.deepEqual(paused.action, { type: "wait" });
    assert.equal(next(S, paused.state, check("pass")).ok, false);
    assert.equal(next(S, paused.state, { type: "pause" }).ok, false);
    assert.equal(next(S, s0, { type: "resume" }).ok, false);
    const resumed = next(S, paused.state, { type: "resume" });
    assert.ok(resumed.ok);
    assert.deepEqual(resumed.state, s0);
    for (const from of [s0, paused.state]) {
      const aborted = next(S, from, { type: "abort" });
      assert.ok(aborted.ok);
      assert.equal(aborted.state.phase, "aborted");
      assert.deepEqual(aborted.action, { type: "rollback" });
    }
  });

  test("every event in every phase: final phases refuse all, active ones answer", () => {
    const events: CanaryEvent[] = [
      check("pass"),
      check("fail"),
      check("insufficient-data"),
      { type: "pause" },
      { type: "resume" },
      { type: "abort" },
    ];
    for (const phase of CANARY_PHASES) {
      for (const e of events) {
        const t = next(S, { phase, stepIndex: 1, failedChecks: 0 }, e);
        const final = phase === "promoted" || phase === "rolled-back" || phase === "aborted";
        if (final) assert.equal(t.ok, false, `${phase} refuses ${e.type}`);
        if (!t.ok) assert.match(t.reason, /canary/);
      }
    }
  });

  const arbSettings = fc
    .record({
      steps: fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }).map((a) => a.sort((x, y) => x - y)),
      failureThreshold: fc.integer({ min: 1, max: 5 }),
    })
    .filter((r) => r.steps[0] < 100)
    .map((r) => canarySettingsSchema.parse(r));
  const arbEvent: fc.Arbitrary<CanaryEvent> = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<Verdict>("pass", "fail", "insufficient-data").map(check) },
    { weight: 1, arbitrary: fc.constantFrom<CanaryEvent>({ type: "pause" }, { type: "resume" }, { type: "abort" }) },
  );

  test("property: weights rise while progressing, finals are final, rollback exactly at the threshold", () => {
    fc.assert(
      fc.property(arbSettings, fc.array(arbEvent, { maxLength: 40 }), (settings, events) => {
        let state: CanaryState = start(settings).state;
        let failures = 0;
        for (const e of events) {
          const before = state;
          const t = next(settings, state, e);
          if (!t.ok) {
            // A progressing rollout refuses only "resume".
            if (before.phase === "progressing") assert.equal(e.type, "resume");
            continue;
          }
          state = t.state;
          if (e.type === "check" && e.verdict === "fail") failures++;
          const w = weightOf(settings, state);
          assert.ok([0, 100, ...settings.steps].includes(w), `weight ${w}`);
          if (isProgressing(before.phase) && isProgressing(state.phase)) assert.ok(w >= weightOf(settings, before));
          if (t.action.type === "rollback") assert.ok(state.phase === "aborted" || state.failedChecks === settings.failureThreshold);
          if (state.phase === "rolled-back") assert.equal(failures, settings.failureThreshold);
          if (t.action.type === "promote") assert.equal(state.phase, "promoted");
        }
        if (state.phase === "progressing" || state.phase === "paused") assert.ok(state.failedChecks < settings.failureThreshold);
      }),
      { numRuns: 500 },
    );
  });

  test("property: enough passes always promote; enough failures always roll back", () => {
    fc.assert(
      fc.property(arbSettings, (settings) => {
        assert.equal(run(settings, Array(settings.steps.length).fill(check("pass"))).state.phase, "promoted");
        assert.equal(run(settings, Array(settings.failureThreshold).fill(check("fail"))).state.phase, "rolled-back");
      }),
    );
  });
});

function isProgressing(p: CanaryPhase): boolean {
  return p === "progressing" || p === "paused";
}

describe("analysis window classification", () => {
  const totals = (requests: number, errors: number, latencyMs: number) => {
    const latency = emptyHistogram();
    for (let i = 0; i < requests; i++) observe(latency, latencyMs);
    return { requests, errors, latency };
  };
  const baseline = totals(400, 0, 4);

  test("too few canary requests: insufficient data", () => {
    const a = analyse(S, totals(S.minRequests - 1, 0, 5), baseline);
    assert.equal(a.verdict, "insufficient-data");
    assert.match(a.reasons[0], /canary requests/);
  });
  test("healthy canary passes; figures for both sides", () => {
    const a = analyse(S, totals(100, 0, 5), baseline);
    assert.equal(a.verdict, "pass");
    assert.equal(a.canary.successRatePct, 100);
    assert.equal(a.baseline.requests, 400);
    assert.ok(a.canary.p99Ms !== null && a.canary.p99Ms <= 10);
    assert.match(figuresText(a), /success 100% \(baseline 100%\)/);
  });
  test("4% failures fail the default 99% threshold; exactly 99% passes", () => {
    const failing = analyse(S, totals(100, 4, 50), baseline);
    assert.equal(failing.verdict, "fail");
    assert.deepEqual(failing.reasons, ["success rate 96% < 99%"]);
    assert.equal(analyse(S, totals(100, 1, 50), baseline).verdict, "pass");
  });
  test("p99 above the threshold fails", () => {
    const a = analyse(S, totals(100, 0, 800), baseline);
    assert.equal(a.verdict, "fail");
    assert.match(a.reasons[0], /^p99 \d+(\.\d+)? ms > 500 ms$/);
  });
  test("no baseline traffic: its figures are null, the verdict is the canary's", () => {
    const a = analyse(S, totals(50, 0, 5), totals(0, 0, 0));
    assert.equal(a.verdict, "pass");
    assert.equal(a.baseline.successRatePct, null);
    assert.match(figuresText(a), /baseline –/);
  });
});

describe("what a transition means for the mesh and the history (plan.ts)", () => {
  const pair = { service: "payments", baseline: "v1", canary: "v2" };
  test("splits: only the two versions, summing to 100; wait sets none", () => {
    assert.deepEqual(splitOf({ type: "set-weight", weight: 25 }, pair), [
      { version: "v1", weight: 75 },
      { version: "v2", weight: 25 },
    ]);
    assert.deepEqual(
      splitOf({ type: "promote" }, pair)?.map((e) => e.weight),
      [0, 100],
    );
    assert.deepEqual(
      splitOf({ type: "rollback" }, pair)?.map((e) => e.weight),
      [100, 0],
    );
    assert.equal(splitOf({ type: "wait" }, pair), null);
  });
  test("revision kinds and the actor", () => {
    assert.equal(revisionKind({ type: "set-weight", weight: 5 }, "start"), "canary-start");
    assert.equal(revisionKind({ type: "set-weight", weight: 10 }, check("pass")), "canary-step");
    assert.equal(revisionKind({ type: "promote" }, check("pass")), "canary-promote");
    assert.equal(revisionKind({ type: "rollback" }, check("fail")), "canary-rollback");
    assert.equal(revisionKind({ type: "rollback" }, { type: "abort" }), "canary-abort");
    assert.equal(canaryActor("payments"), "canary payments");
  });
  test("reasons name the step, the verdict's cause and both versions' figures", () => {
    const s0 = start(S).state;
    const failing = {
      verdict: "fail" as const,
      canary: { requests: 120, successRatePct: 95.8, p99Ms: 61 },
      baseline: { requests: 2300, successRatePct: 100, p99Ms: 6 },
      reasons: ["success rate 95.8% < 99%"],
    };
    assert.equal(
      reasonOf(S, pair, s0, { ...s0, phase: "rolled-back", failedChecks: 2 }, { type: "rollback" }, { check: failing }),
      "canary v2 rolled back to v1: 2/2 failed checks (success rate 95.8% < 99%) — success 95.8% (baseline 100%), p99 61 ms (baseline 6 ms), 120 requests",
    );
    assert.equal(
      reasonOf(S, pair, s0, s0, { type: "set-weight", weight: 5 }, { by: "olga", event: "start" }),
      "canary v2 started by olga at 5% against v1",
    );
    assert.match(
      reasonOf(S, pair, s0, { ...s0, stepIndex: 1 }, { type: "set-weight", weight: 10 }, { check: { ...failing, verdict: "pass", reasons: [] } }),
      /^canary v2 → 10%: check passed at 5% — /,
    );
  });
});

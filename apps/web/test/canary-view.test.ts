/** The canary panel's view-models (shared/canary-view.ts): chart rows, axis bounds, step progress, form parsing. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { analysisRows, formOf, phaseClass, settingsOf, stepsProgress, successAxisMin } from "../shared/canary-view.ts";

const check = (weight: number, verdict: string, canarySuccessPct: number | null, canaryP99Ms: number | null) => ({
  at: "2026-12-02T10:00:00.000Z",
  stepIndex: 0,
  weight,
  verdict,
  canaryRequests: 40,
  canarySuccessPct,
  canaryP99Ms,
  baselineRequests: 800,
  baselineSuccessPct: 100,
  baselineP99Ms: 6,
});

test("chart rows: one per window, numbered, with the window under way last", () => {
  const rows = analysisRows(
    [check(5, "pass", 100, 48), check(10, "fail", 95.5, 60)],
    { canary: { requests: 12, successRatePct: 91.7, p99Ms: 55 }, baseline: { requests: 300, successRatePct: 100, p99Ms: 5 } },
    10,
  );
  assert.deepEqual(
    rows.map((r) => r.label),
    ["#1 · 5%", "#2 · 10%", "now · 10%"],
  );
  assert.equal(rows[1].canarySuccessPct, 95.5);
  assert.equal(rows[1].baselineP99Ms, 6);
  assert.equal(rows[2].verdict, "running");
  assert.equal(rows[2].canaryRequests, 12);
  assert.equal(analysisRows([check(5, "pass", 100, 4)], null, null).length, 1, "no partial row once finished");
});

test("success axis reaches below the lowest figure and the threshold", () => {
  assert.equal(successAxisMin([], 99), 98);
  const rows = analysisRows([check(5, "fail", 91.2, 40)], null, null);
  assert.equal(successAxisMin(rows, 99), 90);
  assert.equal(successAxisMin(analysisRows([check(5, "fail", 0.5, 40)], null, null), 99), 0);
});

test("step progress by phase", () => {
  const steps = [5, 10, 25, 50, 100];
  assert.deepEqual(
    stepsProgress(steps, 2, "progressing").map((s) => s.state),
    ["done", "done", "current", "pending", "pending"],
  );
  assert.deepEqual(
    stepsProgress(steps, 1, "rolled-back").map((s) => s.state),
    ["done", "failed", "pending", "pending", "pending"],
  );
  assert.ok(stepsProgress(steps, 3, "promoted").every((s) => s.state === "done"));
  assert.equal(phaseClass("promoted"), "health-healthy");
  assert.equal(phaseClass("rolled-back"), "health-critical");
});

test("form: defaults as text and back; the first non-number field is named", () => {
  const defaults = { steps: [5, 10, 25, 50, 100], intervalSeconds: 60, minSuccessRatePct: 99, maxP99Ms: 500, minRequests: 20, failureThreshold: 2 };
  const f = formOf(defaults);
  assert.equal(f.steps, "5, 10, 25, 50, 100");
  assert.deepEqual(settingsOf(f), { ok: true, settings: defaults });
  const arrows = settingsOf({ ...f, steps: "10 → 50 → 100" });
  assert.ok(arrows.ok && arrows.settings.steps.join() === "10,50,100");
  assert.deepEqual(settingsOf({ ...f, maxP99Ms: "fast" }), { ok: false, field: "maxP99Ms", error: "maxP99Ms: not a number" });
  assert.equal((settingsOf({ ...f, steps: "" }) as { field: string }).field, "steps");
  assert.equal((settingsOf({ ...f, minRequests: " " }) as { field: string }).field, "minRequests");
});

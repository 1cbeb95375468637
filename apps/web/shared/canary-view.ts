/**
 * Pure view-models of the service page's canary panel: the analysis chart's rows (one per analysis window, canary
 * against baseline, plus the window under way), the steps' progress, the form's text fields to settings, and how a
 * phase reads. No React here: tested on its own (test/canary-view.test.ts).
 */

export interface CheckLike {
  at: string | Date;
  stepIndex: number;
  weight: number;
  verdict: string;
  canaryRequests: number;
  canarySuccessPct: number | null;
  canaryP99Ms: number | null;
  baselineRequests: number;
  baselineSuccessPct: number | null;
  baselineP99Ms: number | null;
}

export interface FiguresLike {
  requests: number;
  successRatePct: number | null;
  p99Ms: number | null;
}

export interface ChartRow {
  /** `#3 · 10%` for a window, `now · 25%` for the one under way. */
  label: string;
  weight: number;
  verdict: string;
  canarySuccessPct: number | null;
  baselineSuccessPct: number | null;
  canaryP99Ms: number | null;
  baselineP99Ms: number | null;
  canaryRequests: number;
}

/** One chart row per analysis window, oldest first; the window under way (partial figures) last. */
export function analysisRows(
  checks: readonly CheckLike[],
  current: { canary: FiguresLike; baseline: FiguresLike } | null,
  weightNow: number | null,
): ChartRow[] {
  const rows: ChartRow[] = checks.map((c, i) => ({
    label: `#${i + 1} · ${c.weight}%`,
    weight: c.weight,
    verdict: c.verdict,
    canarySuccessPct: c.canarySuccessPct,
    baselineSuccessPct: c.baselineSuccessPct,
    canaryP99Ms: c.canaryP99Ms,
    baselineP99Ms: c.baselineP99Ms,
    canaryRequests: c.canaryRequests,
  }));
  if (current && weightNow !== null)
    rows.push({
      label: `now · ${weightNow}%`,
      weight: weightNow,
      verdict: "running",
      canarySuccessPct: current.canary.successRatePct,
      baselineSuccessPct: current.baseline.successRatePct,
      canaryP99Ms: current.canary.p99Ms,
      baselineP99Ms: current.baseline.p99Ms,
      canaryRequests: current.canary.requests,
    });
  return rows;
}

/** The lowest value the success-rate axis needs: the threshold and every figure shown, with a little room below. */
export function successAxisMin(rows: readonly ChartRow[], threshold: number): number {
  let min = threshold;
  for (const r of rows) for (const v of [r.canarySuccessPct, r.baselineSuccessPct]) if (v !== null && v < min) min = v;
  return Math.max(0, Math.floor(min - 1));
}

export type StepState = "done" | "current" | "pending" | "failed";

/** Each step's state: passed, the one the canary is at, still to come (a rolled-back or aborted one marks its step). */
export function stepsProgress(steps: readonly number[], stepIndex: number, phase: string): { weight: number; state: StepState }[] {
  return steps.map((weight, i) => {
    if (phase === "promoted") return { weight, state: "done" };
    if (i < stepIndex) return { weight, state: "done" };
    if (i === stepIndex) return { weight, state: phase === "rolled-back" || phase === "aborted" ? "failed" : "current" };
    return { weight, state: "pending" };
  });
}

export const PHASE_TEXT: Record<string, string> = {
  progressing: "progressing",
  paused: "paused",
  promoted: "promoted",
  "rolled-back": "rolled back",
  aborted: "aborted",
};

export function phaseClass(phase: string): string {
  if (phase === "promoted") return "health-healthy";
  if (phase === "rolled-back" || phase === "aborted") return "health-critical";
  if (phase === "paused") return "health-warning";
  return "sync-stale";
}

export interface SettingsForm {
  steps: string;
  intervalSeconds: string;
  minSuccessRatePct: string;
  maxP99Ms: string;
  minRequests: string;
  failureThreshold: string;
}

export interface SettingsValues {
  steps: number[];
  intervalSeconds: number;
  minSuccessRatePct: number;
  maxP99Ms: number;
  minRequests: number;
  failureThreshold: number;
}

/** The form's fields from settings (the defaults the server sends). */
export function formOf(s: SettingsValues): SettingsForm {
  return {
    steps: s.steps.join(", "),
    intervalSeconds: String(s.intervalSeconds),
    minSuccessRatePct: String(s.minSuccessRatePct),
    maxP99Ms: String(s.maxP99Ms),
    minRequests: String(s.minRequests),
    failureThreshold: String(s.failureThreshold),
  };
}

/**
 * The settings a form asks for, or the first field that is not a number (the server validates ranges with its schema
 * and names the field; this only turns text into numbers). Steps: numbers separated by commas, spaces or arrows.
 */
export function settingsOf(f: SettingsForm): { ok: true; settings: SettingsValues } | { ok: false; field: keyof SettingsForm; error: string } {
  const parts = f.steps.split(/[\s,→>-]+/).filter(Boolean);
  const steps = parts.map(Number);
  if (steps.length === 0 || steps.some((n) => !Number.isFinite(n)))
    return { ok: false, field: "steps", error: "steps: numbers such as 5, 10, 25, 50, 100" };
  const out: Record<string, number> = {};
  for (const k of ["intervalSeconds", "minSuccessRatePct", "maxP99Ms", "minRequests", "failureThreshold"] as const) {
    const n = Number(f[k].trim());
    if (f[k].trim() === "" || !Number.isFinite(n)) return { ok: false, field: k, error: `${k}: not a number` };
    out[k] = n;
  }
  return { ok: true, settings: { steps, ...(out as Omit<SettingsValues, "steps">) } };
}

"use client";
/**
 * Progressive delivery on the service page: "Start canary" with its parameters (the server's defaults filled in), then
 * the rollout live — its phase, the steps, the last decision and why, the analysis of every window (canary against
 * baseline success rate and p99, with the thresholds drawn) and the window under way; pause, resume and abort.
 * The console runs the rollout (server/canary); this panel only shows it and sends the operator's commands.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import {
  analysisRows,
  type ChartRow,
  formOf,
  PHASE_TEXT,
  phaseClass,
  type SettingsForm,
  settingsOf,
  stepsProgress,
  successAxisMin,
} from "../../shared/canary-view.ts";
import { useTRPC } from "../lib/trpc.ts";

const FIELDS: { key: keyof SettingsForm; label: string; testId: string; unit?: string }[] = [
  { key: "steps", label: "Steps (canary %)", testId: "canary-steps" },
  { key: "intervalSeconds", label: "Interval per step", testId: "canary-interval", unit: "s" },
  { key: "minSuccessRatePct", label: "Success rate at least", testId: "canary-min-success", unit: "%" },
  { key: "maxP99Ms", label: "p99 at most", testId: "canary-max-p99", unit: "ms" },
  { key: "minRequests", label: "Minimum requests per step", testId: "canary-min-requests" },
  { key: "failureThreshold", label: "Failed checks before rollback", testId: "canary-failure-threshold" },
];

function AnalysisChart({ rows, kind, threshold }: { rows: ChartRow[]; kind: "success" | "p99"; threshold: number }) {
  const success = kind === "success";
  return (
    <div className="chart-box" data-testid={`canary-chart-${kind}`} data-points={rows.length} data-threshold={threshold}>
      <h3>{success ? "Success rate (%)" : "p99 latency (ms)"}</h3>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={rows} margin={{ top: 6, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={20} />
          <YAxis
            tick={{ fontSize: 11 }}
            width={48}
            domain={success ? [successAxisMin(rows, threshold), 100] : [0, (max: number) => Math.ceil(Math.max(max, threshold) * 1.1)]}
          />
          <Tooltip />
          <Legend />
          <ReferenceLine
            y={threshold}
            stroke="#dc2626"
            strokeDasharray="6 3"
            label={{ value: success ? `≥ ${threshold}%` : `≤ ${threshold} ms`, fontSize: 11, fill: "#dc2626", position: "insideTopRight" }}
          />
          <Line
            type="monotone"
            dataKey={success ? "canarySuccessPct" : "canaryP99Ms"}
            name="canary"
            stroke="#d97706"
            connectNulls
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey={success ? "baselineSuccessPct" : "baselineP99Ms"}
            name="baseline"
            stroke="#2563eb"
            connectNulls
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

export function CanaryPanel({ service, versions }: { service: string; versions: string[] }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.canary.get.queryOptions({ service }, { refetchInterval: 1_000 }));
  const onSettled = () => {
    void qc.invalidateQueries({ queryKey: trpc.canary.get.queryKey({ service }) });
    void qc.invalidateQueries({ queryKey: trpc.traffic.get.queryKey({ service }) });
  };
  const startM = useMutation(trpc.canary.start.mutationOptions({ onSettled }));
  const pauseM = useMutation(trpc.canary.pause.mutationOptions({ onSettled }));
  const resumeM = useMutation(trpc.canary.resume.mutationOptions({ onSettled }));
  const abortM = useMutation(trpc.canary.abort.mutationOptions({ onSettled }));
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [baseline, setBaseline] = useState(versions[0] ?? "");
  const [canary, setCanary] = useState(versions[1] ?? "");
  const [formError, setFormError] = useState<string | null>(null);
  const defaults = q.data?.defaults;
  useEffect(() => {
    if (defaults && form === null) setForm(formOf(defaults));
  }, [defaults, form]);

  if (versions.length < 2 || !q.data) return null;
  const { rollout, checks, current, weight } = q.data;
  const active = rollout !== null && (rollout.phase === "progressing" || rollout.phase === "paused");
  const rows = rollout ? analysisRows(checks, current ? { canary: current.canary, baseline: current.baseline } : null, weight) : [];
  const error = formError ?? startM.error?.message ?? pauseM.error?.message ?? resumeM.error?.message ?? abortM.error?.message ?? null;
  const busy = startM.isPending || pauseM.isPending || resumeM.isPending || abortM.isPending;

  const submit = () => {
    if (!form) return;
    const parsed = settingsOf(form);
    if (!parsed.ok) {
      setFormError(parsed.error);
      return;
    }
    setFormError(null);
    startM.mutate({ service, baseline, canary, settings: { ...parsed.settings } });
  };

  return (
    <section
      className="card"
      data-testid="canary-panel"
      data-phase={rollout?.phase ?? "none"}
      data-weight={weight ?? ""}
      data-rollout={rollout?.id ?? ""}
      data-checks={checks.length}
    >
      <div className="page-head">
        <h2>Canary</h2>
        {rollout && (
          <span className={`badge ${phaseClass(rollout.phase)}`} data-testid="canary-phase">
            {PHASE_TEXT[rollout.phase] ?? rollout.phase}
          </span>
        )}
        {rollout && (
          <span className="small muted">
            {rollout.canary} against {rollout.baseline} · started by {rollout.startedBy}
            {active && weight !== null && (
              <>
                {" "}
                · canary at <strong data-testid="canary-weight">{weight}%</strong>
              </>
            )}
          </span>
        )}
      </div>

      {rollout && (
        <>
          <ol className="canary-steps" data-testid="canary-steps-progress">
            {stepsProgress(rollout.settings.steps, rollout.stepIndex, rollout.phase).map((s) => (
              <li key={s.weight} className={`chip canary-step-${s.state}`} data-state={s.state}>
                {s.weight}%
              </li>
            ))}
          </ol>
          <p className="small" data-testid="canary-message">
            {rollout.message}
          </p>
          {current && (
            <p className="small muted" data-testid="canary-current" data-canary-requests={current.canary.requests}>
              This window so far: canary {current.canary.requests} requests, success {current.canary.successRatePct ?? "–"}%, p99{" "}
              {current.canary.p99Ms ?? "–"} ms · baseline {current.baseline.requests} requests, success {current.baseline.successRatePct ?? "–"}%, p99{" "}
              {current.baseline.p99Ms ?? "–"} ms · next check {new Date(current.dueAt).toLocaleTimeString([], { hour12: false })} · failed checks{" "}
              {rollout.failedChecks}/{rollout.settings.failureThreshold}
            </p>
          )}
          {active && (
            <div className="canary-actions">
              {rollout.phase === "progressing" ? (
                <button type="button" disabled={busy} data-testid="canary-pause" onClick={() => pauseM.mutate({ service })}>
                  Pause
                </button>
              ) : (
                <button type="button" disabled={busy} data-testid="canary-resume" onClick={() => resumeM.mutate({ service })}>
                  Resume
                </button>
              )}
              <button type="button" className="danger" disabled={busy} data-testid="canary-abort" onClick={() => abortM.mutate({ service })}>
                Abort (back to {rollout.baseline})
              </button>
            </div>
          )}
          {rows.length > 0 && (
            <div className="grid-2">
              <AnalysisChart rows={rows} kind="success" threshold={rollout.settings.minSuccessRatePct} />
              <AnalysisChart rows={rows} kind="p99" threshold={rollout.settings.maxP99Ms} />
            </div>
          )}
          {checks.length > 0 && (
            <table className="table compact" data-testid="canary-checks">
              <thead>
                <tr>
                  <th>#</th>
                  <th className="num">Canary %</th>
                  <th>Verdict</th>
                  <th className="num">Canary success / p99 / requests</th>
                  <th className="num">Baseline success / p99 / requests</th>
                  <th>Action</th>
                </tr>
              </thead>
              <tbody>
                {checks.map((c, i) => (
                  <tr key={c.id} data-testid="canary-check" data-verdict={c.verdict} data-action={c.action} data-weight={c.weight}>
                    <td>{i + 1}</td>
                    <td className="num">{c.weight}%</td>
                    <td title={c.reasons || undefined}>
                      <span className={`badge ${c.verdict === "pass" ? "health-healthy" : c.verdict === "fail" ? "health-critical" : "health-idle"}`}>
                        {c.verdict}
                      </span>
                    </td>
                    <td className="num">
                      {c.canarySuccessPct ?? "–"}% / {c.canaryP99Ms ?? "–"} ms / {c.canaryRequests}
                    </td>
                    <td className="num">
                      {c.baselineSuccessPct ?? "–"}% / {c.baselineP99Ms ?? "–"} ms / {c.baselineRequests}
                    </td>
                    <td>{c.action}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}

      {!active && form && (
        <form
          className="canary-form"
          data-testid="canary-start-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <h3>Start canary</h3>
          <div className="canary-fields">
            <label>
              Baseline
              <select value={baseline} onChange={(e) => setBaseline(e.target.value)} data-testid="canary-baseline">
                {versions.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Canary
              <select value={canary} onChange={(e) => setCanary(e.target.value)} data-testid="canary-canary">
                {versions.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
            {FIELDS.map((f) => (
              <label key={f.key}>
                {f.label}
                {f.unit ? ` (${f.unit})` : ""}
                <input
                  value={form[f.key]}
                  onChange={(e) => setForm({ ...form, [f.key]: e.target.value })}
                  data-testid={f.testId}
                  inputMode={f.key === "steps" ? "text" : "decimal"}
                />
              </label>
            ))}
          </div>
          <button type="submit" disabled={busy} data-testid="canary-start">
            Start canary
          </button>
        </form>
      )}
      {error && (
        <p className="error small" data-testid="canary-error">
          {error}
        </p>
      )}
    </section>
  );
}

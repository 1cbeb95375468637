"use client";
/** One trace: a waterfall of its spans (timing bars, errors highlighted, retry attempts as sub-bars) and span details. */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { buildWaterfall, formatDuration } from "../../shared/waterfall.ts";
import { useTRPC } from "../lib/trpc.ts";

export function TraceView({ traceId }: { traceId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.traces.get.queryOptions({ traceId }, { refetchInterval: 5_000 }));
  const [selected, setSelected] = useState<string | null>(null);
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.error) {
    return (
      <div>
        <h1>Trace</h1>
        <p className="error" data-testid="trace-error">
          {q.error.data?.code === "NOT_FOUND" ? `No spans stored for trace ${traceId}.` : q.error.message}
        </p>
        <Link href="/traces">All traces</Link>
      </div>
    );
  }
  const w = buildWaterfall(q.data.spans);
  const sel = w.rows.find((r) => r.span.spanId === selected) ?? w.rows.find((r) => r.isError) ?? w.rows[0];
  return (
    <div data-testid="trace-view" data-trace-id={traceId}>
      <div className="page-head">
        <h1>
          Trace <span className="mono">{traceId}</span>
        </h1>
        {w.errorCount > 0 && <span className="badge health-critical">{w.errorCount} failed</span>}
        {w.retriedSpans > 0 && <span className="badge health-warning">{w.retriedSpans} retried</span>}
      </div>
      <p className="muted">
        {new Date(w.traceStartMs).toLocaleString()} · {formatDuration(w.durationMs)} · {w.rows.length} spans · {w.services.join(", ")} ·{" "}
        <Link href="/traces">all traces</Link>
      </p>
      <section className="card">
        <div className="waterfall" data-testid="waterfall" data-rows={w.rows.length}>
          <div className="wf-head">
            <span>Span</span>
            <span className="wf-scale">
              <span>0</span>
              <span>{formatDuration(w.durationMs / 2)}</span>
              <span>{formatDuration(w.durationMs)}</span>
            </span>
          </div>
          {w.rows.map((r) => (
            // biome-ignore lint/a11y/useSemanticElements: a waterfall row (a grid of cells) that selects its span
            <div
              key={r.span.spanId}
              className={`wf-row${r.isError ? " wf-error" : ""}${sel?.span.spanId === r.span.spanId ? " wf-selected" : ""}`}
              data-testid="waterfall-row"
              data-span-id={r.span.spanId}
              data-kind={r.span.kind}
              data-service={r.span.service}
              data-error={String(r.isError)}
              data-attempts={r.attempts.length}
              role="button"
              tabIndex={0}
              onClick={() => setSelected(r.span.spanId)}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") setSelected(r.span.spanId);
              }}
            >
              <span className="wf-label" style={{ paddingLeft: r.depth * 14 }} title={r.span.name}>
                <span className={`wf-kind wf-kind-${r.span.kind}`}>{r.span.kind === "client" ? "C" : "S"}</span> {r.label}{" "}
                <span className="muted small">{r.span.name}</span>
              </span>
              <span className="wf-track">
                <span className="wf-bar" style={{ left: `${r.left * 100}%`, width: `${r.width * 100}%` }} />
                {r.attempts.length > 1 &&
                  r.attempts.map((a) => (
                    <span
                      key={a.attempt}
                      className={`wf-attempt${a.failed ? " failed" : ""}`}
                      data-testid="waterfall-attempt"
                      title={`attempt ${a.attempt} → ${a.endpoint}: ${a.outcome} (${formatDuration(a.durationMs)})`}
                      style={{ left: `${a.left * 100}%`, width: `${Math.max(a.width * 100, 0.4)}%` }}
                    />
                  ))}
                <span className="wf-time small">
                  {formatDuration(r.span.durationMs)} · {r.span.status}
                  {r.attempts.length > 1 ? ` · ${r.attempts.length} attempts` : ""}
                </span>
              </span>
            </div>
          ))}
        </div>
      </section>
      {sel && (
        <section className="card" data-testid="span-details">
          <h2>
            {sel.label}{" "}
            <span className="muted small">
              {sel.span.kind} span {sel.span.spanId}
            </span>
          </h2>
          <table className="table compact">
            <tbody>
              <tr>
                <th>Name</th>
                <td className="mono">{sel.span.name}</td>
              </tr>
              <tr>
                <th>Service</th>
                <td>
                  <Link href={`/services/${encodeURIComponent(sel.span.service)}`}>{sel.span.service}</Link>{" "}
                  <span className="chip">{sel.span.version}</span>
                </td>
              </tr>
              <tr>
                <th>Start (offset)</th>
                <td>+{formatDuration(sel.offsetMs)}</td>
              </tr>
              <tr>
                <th>Duration</th>
                <td>{formatDuration(sel.span.durationMs)}</td>
              </tr>
              <tr>
                <th>Status</th>
                <td className={sel.isError ? "error strong" : undefined}>
                  {sel.span.status}
                  {sel.span.error ? ` · ${sel.span.error}` : ""}
                </td>
              </tr>
              <tr>
                <th>Parent</th>
                <td className="mono">
                  {sel.span.parentSpanId ?? "—"}
                  {sel.orphan ? " (not stored)" : ""}
                </td>
              </tr>
              {Object.entries(sel.span.attributes).map(([k, v]) => (
                <tr key={k}>
                  <th className="mono">{k}</th>
                  <td className="mono">{String(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {sel.attempts.length > 0 && (
            <>
              <h2 style={{ marginTop: 12 }}>Upstream attempts</h2>
              <table className="table compact" data-testid="span-attempts">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Endpoint</th>
                    <th>Outcome</th>
                    <th className="num">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {sel.attempts.map((a) => (
                    <tr key={a.attempt} className={a.failed ? "row-error" : undefined}>
                      <td>{a.attempt}</td>
                      <td className="mono">{a.endpoint}</td>
                      <td className={a.failed ? "error" : undefined}>{a.outcome}</td>
                      <td className="num">{formatDuration(a.durationMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
      )}
    </div>
  );
}

"use client";
/** rps, p50/p95/p99 latency and error rate over a selectable range (5 min – 24 h): live memory + stored rollups. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatTick, RANGES } from "../../shared/metric-series.ts";
import { useTRPC } from "../lib/trpc.ts";

export function MetricsCharts({
  scope,
  testId = "metrics-charts",
}: {
  scope: { service: string } | { source: string; destination: string };
  testId?: string;
}) {
  const trpc = useTRPC();
  const [range, setRange] = useState(900);
  const q = useQuery(trpc.telemetry.series.queryOptions({ ...scope, rangeSeconds: range }, { refetchInterval: range <= 900 ? 5_000 : 30_000 }));
  const data = (q.data?.bins ?? []).map((b) => ({ ...b, time: formatTick(b.t, range) }));
  const chart = (title: string, lines: { key: string; name: string; color: string }[], unit?: string) => (
    <div className="chart-box">
      <h3>{title}</h3>
      <ResponsiveContainer width="100%" height={180}>
        <LineChart data={data} margin={{ top: 6, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
          <XAxis dataKey="time" minTickGap={40} tick={{ fontSize: 11 }} />
          <YAxis tick={{ fontSize: 11 }} width={44} unit={unit} />
          <Tooltip />
          {lines.length > 1 && <Legend />}
          {lines.map((l) => (
            <Line key={l.key} type="monotone" dataKey={l.key} name={l.name} stroke={l.color} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
  return (
    <section className="card" data-testid={testId} data-range={range} data-bins={data.length}>
      <div className="page-head">
        <h2 style={{ margin: 0 }}>Over time</h2>
        <fieldset className="range-picker" aria-label="time range">
          {RANGES.map((r) => (
            <button
              key={r.seconds}
              type="button"
              className={r.seconds === range ? "active" : undefined}
              data-testid={`range-${r.seconds}`}
              onClick={() => setRange(r.seconds)}
            >
              {r.label}
            </button>
          ))}
        </fieldset>
        {q.data && <span className="small muted">{q.data.binSeconds} s bins</span>}
      </div>
      <div className="charts-3">
        {chart("Requests / s", [{ key: "rps", name: "rps", color: "#2563eb" }])}
        {chart(
          "Latency",
          [
            { key: "p50Ms", name: "p50", color: "#16a34a" },
            { key: "p95Ms", name: "p95", color: "#d97706" },
            { key: "p99Ms", name: "p99", color: "#dc2626" },
          ],
          " ms",
        )}
        {chart("Error rate", [{ key: "errorPct", name: "errors %", color: "#dc2626" }], " %")}
      </div>
    </section>
  );
}

"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import { formatMs, formatPct, formatRps } from "../../shared/graph-model.ts";
import { sparklinePoints } from "../../shared/rps-trend.ts";
import { nextSort, type ServiceRow, type SortDir, type SortKey, sortServiceRows } from "../../shared/services-overview.ts";
import { useTRPC } from "../lib/trpc.ts";
import { LockIcon, UnlockIcon } from "./icons/index.tsx";
import { HealthBadge, SyncBadge } from "./ui.tsx";

const COLUMNS: { key: SortKey | null; label: string; num?: boolean }[] = [
  { key: "name", label: "Service" },
  { key: "health", label: "Health" },
  { key: "rps", label: "RPS in", num: true },
  { key: "errorPct", label: "Errors", num: true },
  { key: "p99Ms", label: "p99", num: true },
  { key: null, label: "Trend (5 min)" },
  { key: "mtls", label: "mTLS" },
  { key: "versions", label: "Versions" },
  { key: "sync", label: "Sync" },
];

const SPARK = { width: 90, height: 20 };

/** Inline SVG of the last minutes' inbound rps: one polyline per row, no chart library. */
function Sparkline({ values, stepSeconds }: { values: number[]; stepSeconds: number }) {
  const latest = values.at(-1) ?? 0;
  return (
    <svg
      className="sparkline"
      width={SPARK.width}
      height={SPARK.height}
      viewBox={`0 0 ${SPARK.width} ${SPARK.height}`}
      role="img"
      aria-label={`inbound rps per ${stepSeconds} s, latest ${formatRps(latest)}`}
      data-testid="sparkline"
      data-values={values.join(",")}
    >
      <polyline points={sparklinePoints(values, SPARK.width, SPARK.height)} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

function MtlsCell({ mtls }: { mtls: ServiceRow["mtls"] }) {
  const Glyph = mtls.mode === "DISABLE" ? UnlockIcon : LockIcon;
  return (
    <span className="mtls-cell" data-testid="mtls-cell" data-mode={mtls.mode}>
      <Glyph size={13} /> {mtls.mode.toLowerCase()}
      {mtls.inherited && <span className="muted"> (mesh)</span>}
      {mtls.observedPct !== null && <span className="muted"> · {Math.round(mtls.observedPct)}% seen</span>}
    </span>
  );
}

export function ServicesOverview() {
  const trpc = useTRPC();
  const q = useQuery(trpc.services.overview.queryOptions(undefined, { refetchInterval: 2_000 }));
  const [sort, setSort] = useState<{ key: SortKey; dir: SortDir }>({ key: "name", dir: "asc" });
  const rows = useMemo(() => (q.data ? sortServiceRows(q.data.rows, sort.key, sort.dir) : []), [q.data, sort]);
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.error) return <p className="error">Could not load services: {q.error.message}</p>;
  if (rows.length === 0)
    return (
      <p className="muted" data-testid="services-empty">
        No services registered yet.
      </p>
    );
  return (
    <table className="table services-overview" data-testid="services-table" data-sort={`${sort.key}:${sort.dir}`}>
      <thead>
        <tr>
          {COLUMNS.map((c) => (
            <th
              key={c.label}
              className={c.num ? "num" : undefined}
              aria-sort={c.key === sort.key ? (sort.dir === "asc" ? "ascending" : "descending") : undefined}
            >
              {c.key ? (
                <button type="button" className="sort-header" data-testid={`sort-${c.key}`} onClick={() => setSort(nextSort(sort, c.key!))}>
                  {c.label}
                  <span aria-hidden className="sort-arrow">
                    {c.key === sort.key ? (sort.dir === "asc" ? "▲" : "▼") : ""}
                  </span>
                </button>
              ) : (
                c.label
              )}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((s) => (
          <tr key={s.name} data-testid={`service-row-${s.name}`} data-rps={s.rps}>
            <td>
              <Link href={`/services/${encodeURIComponent(s.name)}`} className="strong" data-testid="service-link">
                {s.name}
              </Link>
            </td>
            <td>
              <HealthBadge health={s.health} />
            </td>
            <td className="num" data-testid="rps">
              {formatRps(s.rps)}
            </td>
            <td className="num">{s.rps > 0 ? formatPct(s.errorPct) : "–"}</td>
            <td className="num">{s.rps > 0 ? formatMs(s.p99Ms) : "–"}</td>
            <td className="spark-cell">
              <Sparkline values={s.trend} stepSeconds={q.data.stepSeconds} />
            </td>
            <td>
              <MtlsCell mtls={s.mtls} />
            </td>
            <td>
              {s.versions.map((v) => (
                <span key={v} className="chip">
                  {v}
                </span>
              ))}
            </td>
            <td title={`${s.sync.synced} synced, ${s.sync.stale} stale, ${s.sync.nacked} nacked of ${s.connected} connected (${s.instances} known)`}>
              {s.sync.state === "NONE" ? <span className="muted">no agents</span> : <SyncBadge state={s.sync.state} />}
              <span className="muted">
                {" "}
                {s.connected}/{s.instances}
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

"use client";
/** Trace search: filter by service (and peer: a graph edge), errors only, min duration, time range; newest or slowest first; paginated. */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { formatDuration } from "../../shared/waterfall.ts";
import { parseTraceFilter, type TraceFilter, tracesHref } from "../lib/trace-links.ts";
import { useTRPC } from "../lib/trpc.ts";
import { TracingPolicyCard } from "./TracingPolicyCard.tsx";

const RANGES = [
  { seconds: 300, label: "last 5 min" },
  { seconds: 900, label: "last 15 min" },
  { seconds: 3600, label: "last 1 h" },
  { seconds: 6 * 3600, label: "last 6 h" },
  { seconds: 86_400, label: "last 24 h" },
];

export function TracesPage() {
  const trpc = useTRPC();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const filter = parseTraceFilter(params);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  const services = useQuery(trpc.services.list.queryOptions(undefined, { refetchInterval: 10_000 }));
  const q = useQuery(
    trpc.traces.search.queryOptions(
      {
        service: filter.service,
        peer: filter.service ? filter.peer : undefined,
        errorsOnly: filter.errorsOnly,
        minDurationMs: filter.minDurationMs,
        sinceSeconds: filter.sinceSeconds,
        sort: filter.sort,
        limit: 25,
        cursor,
      },
      { refetchInterval: cursor ? false : 3_000 },
    ),
  );
  const update = (patch: Partial<TraceFilter>) => {
    setCursors([undefined]);
    router.replace(tracesHref({ ...filter, ...patch }), { scroll: false });
  };
  void pathname;
  return (
    <div data-testid="traces-page">
      <div className="page-head">
        <h1>Traces</h1>
        {filter.service && filter.peer && (
          <span className="chip big" data-testid="traces-edge">
            edge {filter.service} → {filter.peer}
          </span>
        )}
      </div>
      <section className="card filters" data-testid="traces-filters">
        <label>
          Service{" "}
          <select
            data-testid="traces-filter-service"
            value={filter.service ?? ""}
            onChange={(e) => update({ service: e.target.value || undefined, peer: undefined })}
          >
            <option value="">any</option>
            {(services.data ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        {filter.peer && (
          <label>
            Calls to <span className="chip">{filter.peer}</span>{" "}
            <button type="button" className="link-button" onClick={() => update({ peer: undefined })}>
              clear
            </button>
          </label>
        )}
        <label>
          <input
            type="checkbox"
            data-testid="traces-filter-errors"
            checked={filter.errorsOnly}
            onChange={(e) => update({ errorsOnly: e.target.checked })}
          />{" "}
          errors only
        </label>
        <label>
          Min duration{" "}
          <input
            type="number"
            min={0}
            step={1}
            className="narrow"
            data-testid="traces-filter-min"
            defaultValue={filter.minDurationMs ?? ""}
            onBlur={(e) => update({ minDurationMs: e.target.value ? Number(e.target.value) : undefined })}
            onKeyDown={(e) => {
              if (e.key === "Enter")
                update({ minDurationMs: (e.target as HTMLInputElement).value ? Number((e.target as HTMLInputElement).value) : undefined });
            }}
          />{" "}
          ms
        </label>
        <label>
          Time{" "}
          <select data-testid="traces-filter-range" value={filter.sinceSeconds} onChange={(e) => update({ sinceSeconds: Number(e.target.value) })}>
            {RANGES.map((r) => (
              <option key={r.seconds} value={r.seconds}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order{" "}
          <select data-testid="traces-sort" value={filter.sort} onChange={(e) => update({ sort: e.target.value as "recent" | "slowest" })}>
            <option value="recent">newest first</option>
            <option value="slowest">slowest first</option>
          </select>
        </label>
      </section>

      <section className="card">
        {q.isPending ? (
          <p className="muted">Loading…</p>
        ) : q.error ? (
          <p className="error">{q.error.message}</p>
        ) : q.data.traces.length === 0 ? (
          <p className="muted" data-testid="traces-empty">
            No traces match. Requests are head-sampled (see the policy below); errors and slow requests are always kept.
          </p>
        ) : (
          <table className="table compact" data-testid="traces-table">
            <thead>
              <tr>
                <th>Started</th>
                <th>Trace</th>
                <th>Matched span</th>
                <th className="num">Status</th>
                <th className="num">Duration</th>
                <th className="num">Spans</th>
                <th>Services</th>
              </tr>
            </thead>
            <tbody>
              {q.data.traces.map((t) => {
                const failed = t.errorCount > 0;
                return (
                  <tr
                    key={t.traceId}
                    data-testid="trace-row"
                    data-trace-id={t.traceId}
                    data-error={String(failed)}
                    className={failed ? "row-error" : undefined}
                  >
                    <td className="mono">{new Date(t.startUnixMs).toLocaleTimeString([], { hour12: false })}</td>
                    <td>
                      <Link href={`/traces/${t.traceId}`} data-testid="trace-link" className="mono">
                        {t.traceId.slice(0, 12)}…
                      </Link>{" "}
                      <span className="small muted">{t.rootName}</span>
                    </td>
                    <td className="small">
                      {t.matched.kind === "client"
                        ? `${t.matched.service} → ${t.matched.peerService}`
                        : `${t.matched.service} ← ${t.matched.peerService}`}
                      {t.matched.error && <span className="badge health-critical"> {t.matched.error}</span>}
                    </td>
                    <td className="num">{t.matched.status}</td>
                    <td className="num">{formatDuration(t.durationMs)}</td>
                    <td className="num">
                      {t.spanCount}
                      {t.errorCount > 0 && <span className="error"> ({t.errorCount} err)</span>}
                    </td>
                    <td className="small">{t.services.join(", ")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <div className="pager">
          <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))} data-testid="traces-newer">
            ← Newer
          </button>
          <span className="muted small">page {cursors.length}</span>
          <button
            type="button"
            disabled={!q.data?.nextCursor}
            onClick={() => q.data?.nextCursor && setCursors((c) => [...c, q.data!.nextCursor!])}
            data-testid="traces-older"
          >
            Older →
          </button>
        </div>
      </section>
      <TracingPolicyCard />
    </div>
  );
}

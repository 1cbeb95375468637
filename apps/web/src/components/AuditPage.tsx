"use client";
/** The audit log (admins): who did what, from where, when, and how it went — newest first, filtered. */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import { useTRPC } from "../lib/trpc.ts";
import { AuditFilters, type AuditFilterValues, auditQuery, NO_FILTER } from "./AuditFilters.tsx";
import { ago } from "./ui.tsx";

const OUTCOME_CLASS: Record<string, string> = { success: "chip", failure: "chip bad", throttled: "chip warn" };

export function AuditPage() {
  const trpc = useTRPC();
  const [filters, setFilters] = useState<AuditFilterValues>(NO_FILTER);
  const input = useMemo(() => auditQuery(filters), [filters]);
  const q = useQuery(trpc.audit.list.queryOptions(input, { refetchInterval: 5_000 }));
  return (
    <div data-testid="audit">
      <div className="page-head">
        <h1>Audit log</h1>
      </div>
      <AuditFilters value={filters} onApply={setFilters} />
      {q.isPending ? (
        <p className="muted">Loading…</p>
      ) : q.error ? (
        <p className="error">{q.error.message}</p>
      ) : q.data.events.length === 0 ? (
        <p className="muted">No events match.</p>
      ) : (
        <table className="table compact" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>From</th>
              <th>Action</th>
              <th>Target</th>
              <th>Outcome</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {q.data.events.map((e) => (
              <tr key={e.id} data-testid={`audit-row-${e.id}`} data-action={e.action} data-outcome={e.outcome}>
                <td title={e.at}>{ago(e.at)}</td>
                <td>
                  {e.actor} {e.actorKind !== "user" && <span className="muted small">({e.actorKind})</span>}
                </td>
                <td className="mono">{e.clientAddress ?? "–"}</td>
                <td className="mono">{e.action}</td>
                <td>{e.target ?? "–"}</td>
                <td>
                  <span className={OUTCOME_CLASS[e.outcome] ?? "chip"}>{e.outcome}</span>
                </td>
                <td className="small">
                  {e.revisionId !== null && <Link href="/history">revision #{e.revisionId}</Link>}{" "}
                  <span className="mono muted">{Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : ""}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

"use client";
/**
 * Config history: every committed change of every part (traffic, mTLS, authorization, mesh-wide sampling) — who, when,
 * what, readable diff — with one-click rollback of what that change did (refused, with the reason, on a conflict).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../lib/trpc.ts";
import { ago } from "./ui.tsx";

export function HistoryPage({ service }: { service?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = service ? { service, limit: 200 } : { limit: 200 };
  const q = useQuery(trpc.revisions.list.queryOptions(input, { refetchInterval: 2_000 }));
  const rollback = useMutation(
    trpc.revisions.rollback.mutationOptions({ onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.revisions.list.queryKey() }) }),
  );
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.error) return <p className="error">{q.error.message}</p>;
  const rows = q.data;
  return (
    <div data-testid="history">
      <div className="page-head">
        <h1>Config history{service ? ` · ${service}` : ""}</h1>
        {service && <Link href="/history">all services</Link>}
      </div>
      {rollback.error && (
        <p className="error" data-testid="rollback-error">
          {rollback.error.message}
        </p>
      )}
      {rows.length === 0 ? (
        <p className="muted">No changes yet.</p>
      ) : (
        <table className="table compact" data-testid="revisions-table">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Who</th>
              <th>Service</th>
              <th>Change</th>
              <th>Diff</th>
              <th className="num">Config</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid={`revision-row-${r.id}`} data-kind={r.kind} data-part={r.part} data-service={r.service ?? "mesh"}>
                <td className="mono">{r.id}</td>
                <td title={r.createdAt}>{ago(r.createdAt)}</td>
                <td>{r.actor}</td>
                <td>
                  {r.service ? <Link href={`/services/${encodeURIComponent(r.service)}`}>{r.service}</Link> : <span className="muted">mesh</span>}
                </td>
                <td>
                  <span className="chip">{r.part === "traffic" ? r.kind : `${r.part} · ${r.kind}`}</span> {r.summary}
                </td>
                <td>
                  <pre className="mono small" style={{ margin: 0, whiteSpace: "pre-wrap" }} data-testid={`revision-diff-${r.id}`}>
                    {r.diff.join("\n") || "(no change)"}
                  </pre>
                </td>
                <td className="num mono">{r.configVersion ? `v${r.configVersion}` : "–"}</td>
                <td>
                  <button
                    type="button"
                    data-testid={`rollback-${r.id}`}
                    disabled={rollback.isPending}
                    title="Revert what this change did (recorded as a new revision; refused if a later change touched the same settings)"
                    onClick={() => rollback.mutate({ id: r.id })}
                  >
                    Roll back
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatMs, formatPct, formatRps } from "../../shared/graph-model.ts";
import { useTRPC } from "../lib/trpc.ts";
import { HealthBadge } from "./ui.tsx";

export function ServicesList() {
  const trpc = useTRPC();
  const q = useQuery(trpc.services.list.queryOptions(undefined, { refetchInterval: 2_000 }));
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.error) return <p className="error">Could not load services: {q.error.message}</p>;
  if (q.data.length === 0)
    return (
      <p className="muted" data-testid="services-empty">
        No services registered yet.
      </p>
    );
  return (
    <table className="table" data-testid="services-table">
      <thead>
        <tr>
          <th>Service</th>
          <th>Health</th>
          <th>Versions</th>
          <th className="num">Instances</th>
          <th className="num">RPS in</th>
          <th className="num">p99</th>
          <th className="num">Errors</th>
        </tr>
      </thead>
      <tbody>
        {q.data.map((s) => (
          <tr key={s.name} data-testid={`service-row-${s.name}`}>
            <td>
              <Link href={`/services/${encodeURIComponent(s.name)}`} className="strong">
                {s.name}
              </Link>
            </td>
            <td>
              <HealthBadge health={s.health} />
            </td>
            <td>
              {s.versions.map((v) => (
                <span key={v} className="chip">
                  {v}
                </span>
              ))}
            </td>
            <td className="num">
              {s.connected}/{s.instances}
            </td>
            <td className="num">{formatRps(s.rps)}</td>
            <td className="num">{s.rps > 0 ? formatMs(s.p99Ms) : "–"}</td>
            <td className="num">{s.rps > 0 ? formatPct(s.errorPct) : "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

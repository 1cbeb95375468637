"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../lib/trpc.ts";
import { ago, ConnBadge, SyncBadge } from "./ui.tsx";

export function AgentsTable() {
  const trpc = useTRPC();
  const q = useQuery(trpc.agents.list.queryOptions(undefined, { refetchInterval: 1_500 }));
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.error) return <p className="error">Could not load agents: {q.error.message}</p>;
  const { agents, configVersion, connected } = q.data;
  return (
    <>
      <p className="muted" data-testid="agents-summary">
        Config version <strong data-testid="config-version">{configVersion}</strong> · {connected} connected · {agents.length} known
      </p>
      {agents.length === 0 ? (
        <p className="muted">No agent has joined yet.</p>
      ) : (
        <table className="table" data-testid="agents-table">
          <thead>
            <tr>
              <th>Instance</th>
              <th>Service</th>
              <th>Address</th>
              <th>Agent</th>
              <th>Connection</th>
              <th>Last seen</th>
              <th>Sync</th>
              <th className="num">Acked / sent</th>
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.instanceId} data-testid={`agent-row-${a.instanceId}`} data-sync={a.syncState}>
                <td className="mono">{a.instanceId}</td>
                <td>
                  <Link href={`/services/${encodeURIComponent(a.service)}`}>{a.service}</Link> <span className="chip">{a.version}</span>
                </td>
                <td className="mono">{a.address}</td>
                <td className="mono">{a.agentVersion}</td>
                <td>
                  <ConnBadge connected={a.connected} />
                </td>
                <td title={a.lastSeen}>{a.connected ? "now" : ago(a.lastSeen)}</td>
                <td title={a.syncError ?? undefined}>
                  <SyncBadge state={a.syncState} />
                  {a.syncError ? <div className="error small">{a.syncError}</div> : null}
                </td>
                <td className="num mono">
                  v{a.ackedVersion} / v{a.sentVersion}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

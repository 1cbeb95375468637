"use client";
/** Settings: API tokens for automation and the `trellis` CLI (admin). A new value is shown once; only its hash is kept. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../lib/trpc.ts";

const EXPIRIES: { label: string; days: number | null }[] = [
  { label: "7 days", days: 7 },
  { label: "30 days", days: 30 },
  { label: "90 days", days: 90 },
  { label: "1 year", days: 365 },
  { label: "never", days: null },
];

const when = (iso: string | null, none: string) => (iso ? new Date(iso).toLocaleString() : none);

export function ApiTokensCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const tokens = useQuery(trpc.apiTokens.list.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.apiTokens.list.queryKey() });
  const create = useMutation(trpc.apiTokens.create.mutationOptions({ onSettled: refresh }));
  const revoke = useMutation(trpc.apiTokens.revoke.mutationOptions({ onSettled: refresh }));
  const [name, setName] = useState("");
  const [role, setRole] = useState<"viewer" | "operator" | "admin">("viewer");
  const [days, setDays] = useState<string>("90");
  const status = (t: { revokedAt: string | null; expiresAt: string | null }) =>
    t.revokedAt ? "revoked" : t.expiresAt && new Date(t.expiresAt) <= new Date() ? "expired" : "active";

  return (
    <section className="panel" data-testid="api-tokens">
      <h2>API tokens</h2>
      <p className="small muted">
        For automation and the <code>trellis</code> CLI: <code>Authorization: Bearer &lt;token&gt;</code> with the token's role. Changes made with a
        token are recorded as <code>token:&lt;name&gt;</code>.
      </p>
      <table className="table compact" data-testid="api-tokens-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Starts with</th>
            <th>Role</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.data?.map((t) => (
            <tr key={t.id} data-testid={`api-token-row-${t.name}`}>
              <td>{t.name}</td>
              <td>
                <code>{t.prefix}…</code>
              </td>
              <td>{t.role}</td>
              <td>{when(t.expiresAt, "never")}</td>
              <td>{when(t.lastUsedAt, "never")}</td>
              <td>{status(t)}</td>
              <td>
                {!t.revokedAt && (
                  <button type="button" onClick={() => revoke.mutate({ id: t.id })}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const d = days === "" ? null : Number(days);
          const expiresAt = d === null ? null : new Date(Date.now() + d * 86_400_000).toISOString();
          if (name.trim()) create.mutate({ name: name.trim(), role, expiresAt }, { onSuccess: () => setName("") });
        }}
      >
        <input placeholder="token name" value={name} onChange={(e) => setName(e.target.value)} />
        <select value={role} onChange={(e) => setRole(e.target.value as typeof role)} aria-label="role">
          <option value="viewer">viewer</option>
          <option value="operator">operator</option>
          <option value="admin">admin</option>
        </select>
        <select value={days} onChange={(e) => setDays(e.target.value)} aria-label="expires in">
          {EXPIRIES.map((x) => (
            <option key={x.label} value={x.days === null ? "" : String(x.days)}>
              {x.label}
            </option>
          ))}
        </select>
        <button type="submit">Create API token</button>
      </form>
      {create.error && <p className="error">{create.error.message}</p>}
      {create.data && (
        <p data-testid="new-api-token">
          New API token (copy it now, it is not shown again): <code>{create.data.token}</code>
        </p>
      )}
    </section>
  );
}

"use client";
/**
 * Settings (admin): the mesh-wide mTLS default; console users and roles; agent join tokens (a new token's value is shown
 * once); the mesh CA.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../lib/trpc.ts";
import { ApiTokensCard } from "./ApiTokensCard.tsx";
import { CaRotationCard } from "./CaRotationCard.tsx";
import { MeshMtlsCard } from "./MeshMtlsCard.tsx";

const ROLES = ["viewer", "operator", "admin"] as const;

function RoleSelect({ value, onChange }: { value: string; onChange: (role: string) => void }) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

export function SettingsPanel() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const users = useQuery(trpc.security.users.queryOptions());
  const tokens = useQuery(trpc.security.tokens.queryOptions());
  const refresh = () => qc.invalidateQueries();
  const createUser = useMutation(trpc.security.createUser.mutationOptions({ onSettled: refresh }));
  const setRole = useMutation(trpc.security.setRole.mutationOptions({ onSettled: refresh }));
  const deleteUser = useMutation(trpc.security.deleteUser.mutationOptions({ onSettled: refresh }));
  const createToken = useMutation(trpc.security.createToken.mutationOptions({ onSettled: refresh }));
  const revoke = useMutation(trpc.security.revokeToken.mutationOptions({ onSettled: refresh }));
  const [u, setU] = useState({ username: "", password: "", role: "viewer" });
  const [tokenName, setTokenName] = useState("");
  const [tokenScope, setTokenScope] = useState("");
  if (users.error)
    return (
      <p className="error" data-testid="settings-error">
        {users.error.message}
      </p>
    );
  return (
    <div data-testid="settings">
      <h1>Settings</h1>
      <MeshMtlsCard />
      <section className="panel">
        <h2>Users</h2>
        <table className="table compact" data-testid="users-table">
          <thead>
            <tr>
              <th>Username</th>
              <th>Role</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.data?.map((x) => (
              <tr key={x.id} data-testid={`user-row-${x.username}`}>
                <td>{x.username}</td>
                <td>
                  <RoleSelect value={x.role} onChange={(role) => setRole.mutate({ id: x.id, role })} />
                </td>
                <td>{new Date(x.createdAt).toLocaleString()}</td>
                <td>
                  <button type="button" onClick={() => deleteUser.mutate({ id: x.id })}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            createUser.mutate(u, { onSuccess: () => setU({ username: "", password: "", role: "viewer" }) });
          }}
        >
          <input placeholder="username" value={u.username} onChange={(e) => setU({ ...u, username: e.target.value })} />
          <input
            placeholder="password (8+ characters)"
            type="password"
            value={u.password}
            onChange={(e) => setU({ ...u, password: e.target.value })}
          />
          <RoleSelect value={u.role} onChange={(role) => setU({ ...u, role })} />
          <button type="submit">Add user</button>
        </form>
        {(createUser.error ?? setRole.error ?? deleteUser.error) && (
          <p className="error">{(createUser.error ?? setRole.error ?? deleteUser.error)!.message}</p>
        )}
      </section>
      <section className="panel">
        <h2>Join tokens</h2>
        <p className="small muted">
          Agents present one in their hello. Only a hash is stored; a new token is shown once. A token registers only the services its scope names
          (names or patterns such as <code>shop-*</code>); the bootstrap token (TRELLIS_JOIN_TOKEN or the data directory's join-token file) registers
          any service.
        </p>
        <table className="table compact" data-testid="tokens-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Starts with</th>
              <th>Scope</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data?.map((t) => (
              <tr key={t.id} data-testid={`token-row-${t.name}`}>
                <td>{t.name}</td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td data-testid="token-scope">{t.scope ? t.scope.join(", ") : "any service"}</td>
                <td>{new Date(t.createdAt).toLocaleString()}</td>
                <td data-testid="token-last-used">
                  {t.lastUsedAt ? `${new Date(t.lastUsedAt).toLocaleString()}${t.lastUsedBy ? ` by ${t.lastUsedBy}` : ""}` : "never"}
                </td>
                <td>{t.revokedAt ? "revoked" : "active"}</td>
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
            if (tokenName.trim())
              createToken.mutate(
                { name: tokenName.trim(), scope: tokenScope.trim() || undefined },
                {
                  onSuccess: () => {
                    setTokenName("");
                    setTokenScope("");
                  },
                },
              );
          }}
        >
          <input placeholder="token name" value={tokenName} onChange={(e) => setTokenName(e.target.value)} />
          <input
            placeholder="services (web, shop-*; empty = any)"
            data-testid="token-scope-input"
            value={tokenScope}
            onChange={(e) => setTokenScope(e.target.value)}
          />
          <button type="submit">Create token</button>
        </form>
        {createToken.error && <p className="error">{createToken.error.message}</p>}
        {createToken.data && (
          <p data-testid="new-token">
            New token (copy it now, it is not shown again): <code>{createToken.data.token}</code>
          </p>
        )}
      </section>
      <ApiTokensCard />
      <CaRotationCard />
    </div>
  );
}

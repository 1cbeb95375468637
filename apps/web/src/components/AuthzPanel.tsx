"use client";
/** Service detail: who may call this service (allow rules), and the calls its agents denied. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../lib/trpc.ts";
import { AuthzFromTraffic } from "./AuthzFromTraffic.tsx";
import { AlertIcon, PlusIcon, ShieldCheckIcon, ShieldIcon, TrashIcon } from "./icons/index.tsx";

const split = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function AuthzPanel({ name }: { name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.security.service.queryOptions({ name }, { refetchInterval: 2_000 }));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.security.service.queryKey({ name }) });
  const add = useMutation(trpc.security.addRule.mutationOptions({ onSettled: refresh }));
  const remove = useMutation(trpc.security.removeRule.mutationOptions({ onSettled: refresh }));
  const [principals, setPrincipals] = useState("");
  const [methods, setMethods] = useState("");
  const [paths, setPaths] = useState("");
  if (!q.data) return null;
  const { rules, denials } = q.data;
  return (
    <section className="panel" data-testid="authz-panel">
      <h2>{rules.length === 0 ? <ShieldIcon size={16} /> : <ShieldCheckIcon size={16} />} Authorization</h2>
      <p className="small muted" data-testid="authz-mode" data-rules={rules.length}>
        {rules.length === 0 ? "No rules: every caller is allowed." : "Only callers matching a rule are allowed; others get 403 rbac-denied."}
      </p>
      {rules.length > 0 && (
        <table className="table compact" data-testid="authz-rules">
          <thead>
            <tr>
              <th>Callers</th>
              <th>Methods</th>
              <th>Paths</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.id}>
                <td>{r.principals.join(", ")}</td>
                <td>{r.methods.join(", ") || "any"}</td>
                <td>{r.paths.join(", ") || "any"}</td>
                <td>
                  <button type="button" className="danger" onClick={() => remove.mutate({ id: r.id })} disabled={remove.isPending}>
                    <TrashIcon size={12} /> Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const p = split(principals);
          if (p.length === 0) return;
          add.mutate(
            { name, rule: { principals: p, methods: split(methods).map((m) => m.toUpperCase()), paths: split(paths) } },
            { onSuccess: () => setPrincipals("") },
          );
        }}
      >
        <input
          placeholder="callers: service names or spiffe:// ids, * = anyone"
          value={principals}
          onChange={(e) => setPrincipals(e.target.value)}
          data-testid="authz-principals"
        />
        <input placeholder="methods (optional)" value={methods} onChange={(e) => setMethods(e.target.value)} />
        <input placeholder="path prefixes (optional)" value={paths} onChange={(e) => setPaths(e.target.value)} />
        <button type="submit" disabled={add.isPending} data-testid="authz-add">
          <PlusIcon size={12} /> Allow
        </button>
      </form>
      {add.error && <p className="error">{add.error.message}</p>}
      <AuthzFromTraffic name={name} />
      <p className="small" data-testid="authz-denials" data-total={denials.total}>
        {denials.total > 0 && <AlertIcon size={12} />} Denied calls since console start: <strong>{denials.total}</strong>
        {denials.callers.length > 0 && <> ({denials.callers.map((c) => `${c.principal}: ${c.count}`).join(", ")})</>}
      </p>
    </section>
  );
}

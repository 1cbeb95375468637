"use client";
/**
 * Settings: the mesh-wide mTLS default (PERMISSIVE or STRICT) of every service without its own override. Operators
 * change it; each change is a mesh-wide config revision (history, rollback) pushed to every agent.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc.ts";
import { Segmented } from "./Segmented.tsx";

const MODES = ["PERMISSIVE", "STRICT"] as const;

export function MeshMtlsCard() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.security.meshMtls.queryOptions());
  const set = useMutation(trpc.security.setMeshMtls.mutationOptions({ onSettled: () => qc.invalidateQueries() }));
  if (!q.data) return null;
  return (
    <section className="panel" data-testid="mesh-mtls" data-mode={q.data.defaultMode}>
      <h2>mTLS default</h2>
      <p className="small muted">
        Services without their own mode get this one. Agents call every destination that accepts mTLS over mTLS; STRICT also refuses plaintext callers
        (check a service's mTLS panel for who still calls it in plaintext before).
      </p>
      <Segmented
        label="mesh mTLS default"
        options={MODES}
        value={q.data.defaultMode}
        disabled={set.isPending}
        testIdPrefix="mesh-mtls-"
        onChange={(mode) => set.mutate({ mode })}
      />
      {set.error && <p className="error">{set.error.message}</p>}
    </section>
  );
}

"use client";
/**
 * Settings: the mesh-wide mTLS default (PERMISSIVE or STRICT) of every service without its own override. Operators
 * change it; each change is a mesh-wide config revision (history, rollback) pushed to every agent.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc.ts";

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
      <div className="segmented" role="radiogroup" aria-label="mesh mTLS default">
        {MODES.map((m) => (
          // biome-ignore lint/a11y/useSemanticElements: a segmented control of buttons, announced as a radio group
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={q.data.defaultMode === m}
            className={q.data.defaultMode === m ? "active" : ""}
            disabled={set.isPending}
            data-testid={`mesh-mtls-${m.toLowerCase()}`}
            onClick={() => set.mutate({ mode: m })}
          >
            {m}
          </button>
        ))}
      </div>
      {set.error && <p className="error">{set.error.message}</p>}
    </section>
  );
}

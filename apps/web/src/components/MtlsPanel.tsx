"use client";
/** Service detail: the service's mTLS mode (operators change it; STRICT <-> DISABLE goes through PERMISSIVE). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../lib/trpc.ts";

const MODES = ["STRICT", "PERMISSIVE", "DISABLE"] as const;
const HELP: Record<(typeof MODES)[number], string> = {
  STRICT: "mTLS only: plaintext and certificates from outside the mesh are refused",
  PERMISSIVE: "accepts mTLS and plaintext; mesh callers use mTLS",
  DISABLE: "plaintext",
};

export function MtlsPanel({ name }: { name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.security.service.queryOptions({ name }, { refetchInterval: 2_000 }));
  const set = useMutation(
    trpc.security.setMtls.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.security.service.queryKey({ name }) }) }),
  );
  if (!q.data) return null;
  const d = q.data;
  return (
    <section className="panel" data-testid="mtls-panel" data-mode={d.mtls} data-effective={d.effectiveMtls}>
      <h2>mTLS</h2>
      <p className="small muted">
        Identity <code>{d.spiffeId}</code>
        {d.effectiveMtls !== d.mtls && <> · rolling out (now {d.effectiveMtls})</>}
      </p>
      <div className="segmented" role="radiogroup" aria-label="mTLS mode">
        {MODES.map((m) => (
          // biome-ignore lint/a11y/useSemanticElements: a segmented control of buttons, announced as a radio group
          <button
            key={m}
            type="button"
            role="radio"
            aria-checked={d.mtls === m}
            className={d.mtls === m ? "active" : ""}
            title={HELP[m]}
            disabled={set.isPending}
            data-testid={`mtls-${m.toLowerCase()}`}
            onClick={() => set.mutate({ name, mode: m })}
          >
            {m === "STRICT" ? "🔒 " : ""}
            {m}
          </button>
        ))}
      </div>
      <p className="small muted">{HELP[d.mtls as (typeof MODES)[number]]}</p>
      {set.error && <p className="error">{set.error.message}</p>}
    </section>
  );
}

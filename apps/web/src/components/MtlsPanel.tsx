"use client";
/**
 * Service detail: the service's mTLS mode (its override or the mesh default; operators change it; STRICT <-> DISABLE
 * goes through PERMISSIVE). Switching to STRICT first shows who still reached the service in plaintext (live
 * telemetry, last minute: those calls would be refused) and asks for confirmation.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../lib/trpc.ts";
import { LockIcon, ShieldCheckIcon, UnlockIcon } from "./icons/index.tsx";
import { Segmented } from "./Segmented.tsx";

const MODES = ["STRICT", "PERMISSIVE", "DISABLE"] as const;
type Mode = (typeof MODES)[number];
const ICON: Record<Mode, typeof LockIcon> = { STRICT: LockIcon, PERMISSIVE: ShieldCheckIcon, DISABLE: UnlockIcon };
const HELP: Record<Mode, string> = {
  STRICT: "mTLS only: plaintext and certificates from outside the mesh are refused",
  PERMISSIVE: "accepts mTLS and plaintext; mesh callers use mTLS",
  DISABLE: "plaintext",
};

export function MtlsPanel({ name }: { name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.security.service.queryOptions({ name }, { refetchInterval: 2_000 }));
  const [confirming, setConfirming] = useState(false);
  const set = useMutation(
    trpc.security.setMtls.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.security.service.queryKey({ name }) }) }),
  );
  if (!q.data) return null;
  const d = q.data;
  const choose = (m: Mode) => {
    if (m === "STRICT" && d.mtls !== "STRICT") setConfirming(true);
    else set.mutate({ name, mode: m });
  };
  return (
    <section className="panel" data-testid="mtls-panel" data-mode={d.mtls} data-effective={d.effectiveMtls} data-inherited={String(d.inherited)}>
      <h2>
        <LockIcon size={16} /> mTLS
      </h2>
      <p className="small muted">
        Identity <code>{d.spiffeId}</code>
        {d.inherited && <> · mesh default ({d.meshDefault})</>}
        {d.effectiveMtls !== d.mtls && <> · rolling out (now {d.effectiveMtls})</>}
      </p>
      <Segmented
        label="mTLS mode"
        options={MODES}
        value={d.mtls}
        disabled={set.isPending}
        testIdPrefix="mtls-"
        title={(m) => HELP[m]}
        render={(m) => {
          const Icon = ICON[m];
          return (
            <>
              <Icon size={13} /> {m}
            </>
          );
        }}
        onChange={choose}
      />
      <p className={`small mode-${d.mtls.toLowerCase()}`}>{HELP[d.mtls as Mode]}</p>
      {confirming && (
        <div className="confirm" data-testid="mtls-strict-confirm" data-plaintext-callers={d.plaintextCallers.length}>
          {d.plaintextCallers.length > 0 ? (
            <>
              <p className="error">
                These callers reached {name} in plaintext in the last {d.plaintextWindowSeconds} s; STRICT will refuse their calls:
              </p>
              <ul data-testid="mtls-plaintext-callers">
                {d.plaintextCallers.map((c) => (
                  <li key={`${c.source}@${c.sourceVersion}`}>
                    {c.source}@{c.sourceVersion}: {c.requests} plaintext calls
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p className="small">
              No caller reached {name} in plaintext in the last {d.plaintextWindowSeconds} s.
            </p>
          )}
          <div className="actions">
            <button
              type="button"
              className="primary"
              data-testid="mtls-strict-confirm-yes"
              onClick={() => {
                setConfirming(false);
                set.mutate({ name, mode: "STRICT" });
              }}
            >
              <LockIcon size={13} /> Switch to STRICT
            </button>
            <button type="button" data-testid="mtls-strict-confirm-no" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {set.error && <p className="error">{set.error.message}</p>}
    </section>
  );
}

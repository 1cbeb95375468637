"use client";
/**
 * Traffic mirroring for one service (on its page): copy a share of the calls to one of its versions, fire and forget
 * (answers discarded, Host marked `<service>-shadow`). The change goes down the change road like any traffic change
 * (validated there with the protocol's schema, recorded in the history, rolled back from it).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "../lib/trpc.ts";

export function MirrorCard({ service }: { service: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const q = useQuery(trpc.traffic.get.queryOptions({ service }, { refetchInterval: 2_000 }));
  const set = useMutation(
    trpc.traffic.setMirror.mutationOptions({ onSettled: () => qc.invalidateQueries({ queryKey: trpc.traffic.get.queryKey({ service }) }) }),
  );
  const current = q.data?.policy.mirror ?? null;
  const versions = q.data?.versions ?? [];
  const [version, setVersion] = useState("");
  const [percent, setPercent] = useState("50");
  // Follow the stored mirror (or default to the newest version) until the operator edits.
  const key = current ? `${current.version}:${current.percent}` : `none:${versions.at(-1) ?? ""}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by value on purpose
  useEffect(() => {
    setVersion(current?.version ?? versions.at(-1) ?? "");
    if (current) setPercent(String(current.percent));
  }, [key]);

  if (!q.data || versions.length < 2) return null;
  return (
    <section className="card" data-testid="mirror-card" data-mirror={current ? `${current.version}=${current.percent}` : "off"}>
      <div className="page-head">
        <h2>Mirroring</h2>
        <span className={`badge ${current ? "sync-stale" : ""}`} data-testid="mirror-state">
          {current ? `${current.percent}% copied to ${current.version}` : "off"}
        </span>
      </div>
      <p className="small muted">
        Copies of the calls go to the chosen version as <code>{service}-shadow</code>; their answers are discarded, so the version is tried on live
        traffic without serving it.
      </p>
      <form
        className="filters"
        onSubmit={(ev) => {
          ev.preventDefault();
          set.mutate({ service, mirror: { version, percent: Number(percent) } });
        }}
      >
        <label>
          Version
          <select value={version} onChange={(e) => setVersion(e.target.value)} data-testid="mirror-version">
            {versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          Share
          <input
            className="narrow"
            type="number"
            min={0}
            max={100}
            step={1}
            value={percent}
            onChange={(e) => setPercent(e.target.value)}
            data-testid="mirror-percent"
          />
          %
        </label>
        <button type="submit" disabled={set.isPending} data-testid="mirror-save">
          {current ? "Update mirror" : "Start mirroring"}
        </button>
        {current && (
          <button type="button" disabled={set.isPending} data-testid="mirror-stop" onClick={() => set.mutate({ service, mirror: null })}>
            Stop
          </button>
        )}
      </form>
      {set.error && (
        <p className="error small" data-testid="mirror-error">
          {set.error.message}
        </p>
      )}
    </section>
  );
}

"use client";
/**
 * Traffic management for one service (on its page): one slider per version (weights always sum to 100 — moving one
 * rebalances the others; the change is committed when the slider is released), the sync state of the last change
 * ("applied on 4/4 instances"), and one form per policy (routes, timeouts, retries, circuit breaking, outlier
 * detection, fault injection, load balancer; policy-forms/), validated with the protocol's schemas in the browser and
 * again on the server.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { rebalance, splitFor, type Weighted } from "../../shared/split.ts";
import type { VersionSync } from "../../shared/version-sync.ts";
import { useTRPC } from "../lib/trpc.ts";
import { PolicyForms } from "./policy-forms/PolicyForms.tsx";

const COMMIT_DEBOUNCE_MS = 250;

function SyncState({ sync, revision }: { sync: VersionSync | null; revision: number | null }) {
  if (!sync || revision === null)
    return (
      <span className="muted small" data-testid="split-sync" data-state="none">
        no change yet
      </span>
    );
  const state = sync.nacked > 0 ? "nacked" : sync.applied >= sync.total ? "applied" : "applying";
  const text =
    state === "applied"
      ? `applied on ${sync.applied}/${sync.total} instances`
      : state === "nacked"
        ? `rejected by ${sync.nacked}/${sync.total} instances`
        : `applying… ${sync.applied}/${sync.total} instances`;
  return (
    <span
      className={`badge ${state === "applied" ? "sync-synced" : state === "nacked" ? "sync-nacked" : "sync-stale"}`}
      data-testid="split-sync"
      data-state={state}
      data-version={sync.version}
      data-revision={revision}
      title={sync.errors.join("\n") || undefined}
    >
      v{sync.version} · {text}
    </span>
  );
}

export function TrafficPanel({ service }: { service: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const q = useQuery(trpc.traffic.get.queryOptions({ service }, { refetchInterval: 500 }));
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.traffic.get.queryKey({ service }) });
  const setSplit = useMutation(trpc.traffic.setSplit.mutationOptions({ onSettled: invalidate }));

  const serverSplit = q.data ? splitFor(q.data.versions, q.data.policy.split) : [];
  const serverKey = JSON.stringify(serverSplit);
  const [draft, setDraft] = useState<Weighted[]>([]);
  const draftRef = useRef<Weighted[]>([]);
  const editing = useRef(false);
  const commitTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const commitSeq = useRef(0);
  const sliders = useRef(new Map<string, HTMLInputElement>());

  // Follows the server's split when it changes (by value: serverSplit is a new array every render).
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by value on purpose
  useEffect(() => {
    if (!editing.current) {
      setDraft(serverSplit);
      draftRef.current = serverSplit;
    }
  }, [serverKey]);

  const move = (index: number, value: number) => {
    const next = rebalance(draftRef.current, index, value);
    draftRef.current = next;
    setDraft(next);
    editing.current = true;
  };
  const commitSoon = (index: number, value: number) => {
    if (draftRef.current[index]?.weight !== value) move(index, value);
    if (commitTimer.current) clearTimeout(commitTimer.current);
    commitTimer.current = setTimeout(() => {
      commitTimer.current = null;
      const split = draftRef.current;
      const seq = ++commitSeq.current;
      setSplit.mutate(
        { service, split },
        {
          onSettled: () => {
            // Back to following the server only when no newer edit is waiting or in flight.
            if (seq === commitSeq.current && commitTimer.current === null) editing.current = false;
          },
        },
      );
    }, COMMIT_DEBOUNCE_MS);
  };
  const commitRef = useRef(commitSoon);
  commitRef.current = commitSoon;

  // The commit happens on the native `change` event: fired once when a slider is released (mouse, touch, keys).
  // Re-attached when the sliders are (re)rendered: none exist while the policy loads.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the sliders' refs change with these, not with a dependency
  useEffect(() => {
    const entries = [...sliders.current.entries()];
    const handlers = entries.map(([version, el]) => {
      const h = () => {
        const index = draftRef.current.findIndex((e) => e.version === version);
        if (index >= 0) commitRef.current(index, Number(el.value));
      };
      el.addEventListener("change", h);
      return () => el.removeEventListener("change", h);
    });
    return () => {
      for (const off of handlers) off();
    };
  }, [draft.length, serverKey]);

  if (q.isPending)
    return (
      <section className="card">
        <p className="muted">Loading traffic policy…</p>
      </section>
    );
  if (q.error)
    return (
      <section className="card">
        <p className="error">{q.error.message}</p>
      </section>
    );
  const data = q.data;
  const error = setSplit.error?.message ?? null;

  return (
    <section className="card" data-testid="traffic-panel" data-service={service}>
      <div className="page-head">
        <h2>Traffic</h2>
        <SyncState sync={data.sync} revision={data.lastRevision?.id ?? null} />
        <Link href={`/history?service=${encodeURIComponent(service)}`} className="small">
          history
        </Link>
      </div>
      {data.versions.length < 2 ? (
        <p className="muted small">One version: every call goes to it.</p>
      ) : (
        <div className="split-sliders" data-testid="split-sliders" data-split={draft.map((e) => `${e.version}=${e.weight}`).join(",")}>
          {!data.policy.split && <p className="muted small">No split set: calls are balanced over every instance of every version.</p>}
          {draft.map((e, i) => (
            <div key={e.version} className="split-row" style={{ display: "flex", alignItems: "center", gap: 12 }}>
              <span className="chip" style={{ minWidth: 48 }}>
                {e.version}
              </span>
              <input
                type="range"
                min={0}
                max={100}
                step={1}
                value={e.weight}
                aria-label={`${e.version} weight`}
                data-testid={`split-slider-${e.version}`}
                ref={(el) => {
                  if (el) sliders.current.set(e.version, el);
                  else sliders.current.delete(e.version);
                }}
                onChange={(ev) => move(i, Number(ev.target.value))}
                style={{ flex: 1 }}
              />
              <span className="num strong" data-testid={`split-weight-${e.version}`} style={{ minWidth: 40 }}>
                {e.weight}%
              </span>
            </div>
          ))}
        </div>
      )}
      {error && (
        <p className="error small" data-testid="traffic-error">
          {error}
        </p>
      )}
      <PolicyForms service={service} policy={data.policy} versions={data.versions} />
    </section>
  );
}

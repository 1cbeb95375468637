"use client";
/**
 * "Allow the callers seen in the last N minutes": generates the service's allow rules from observed traffic, shows
 * the callers and the diff first, and applies them (one `authz` revision on the change road) only when confirmed.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../lib/trpc.ts";
import { CheckIcon, UserCheckIcon } from "./icons/index.tsx";

export function AuthzFromTraffic({ name }: { name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [minutesText, setMinutesText] = useState("10");
  const [asked, setAsked] = useState<number | null>(null);
  const [applied, setApplied] = useState<{ revision: number | null; configVersion: number } | null>(null);
  const minutes = Number(minutesText);
  const validMinutes = Number.isInteger(minutes) && minutes >= 1 && minutes <= 1440;
  const preview = useQuery(trpc.security.generateAuthz.queryOptions({ name, minutes: asked ?? 1 }, { enabled: asked !== null, staleTime: Infinity }));
  const apply = useMutation(
    trpc.security.applyGeneratedAuthz.mutationOptions({
      onSuccess: (r) => {
        setApplied({ revision: r.revision?.id ?? null, configVersion: r.configVersion });
        setAsked(null);
        qc.invalidateQueries({ queryKey: trpc.security.service.queryKey({ name }) });
      },
    }),
  );
  const g = asked !== null ? preview.data : undefined;
  return (
    <div className="generated-authz" data-testid="authz-generate">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!validMinutes) return;
          setApplied(null);
          setAsked(minutes);
          qc.invalidateQueries({ queryKey: trpc.security.generateAuthz.queryKey({ name, minutes }) });
        }}
      >
        <label className="panel-lead small">
          <UserCheckIcon size={14} /> Allow the callers seen in the last
          <input
            className="narrow"
            inputMode="numeric"
            value={minutesText}
            aria-invalid={!validMinutes || undefined}
            data-testid="authz-generate-minutes"
            onChange={(e) => setMinutesText(e.target.value)}
          />
          minutes
        </label>
        <button type="submit" className="btn" disabled={!validMinutes} data-testid="authz-generate-preview">
          Preview rules
        </button>
        {!validMinutes && <span className="field-error">1 to 1440 minutes</span>}
      </form>
      {asked !== null && preview.isPending && <p className="muted small">Reading the traffic…</p>}
      {preview.error && <p className="error small">{preview.error.message}</p>}
      {g && (
        <div className="generated" data-testid="authz-generated" data-added={g.added.length}>
          {g.callers.length === 0 ? (
            <p className="small muted">
              No calls into {name} in the last {g.minutes} minutes.
            </p>
          ) : (
            <table className="table compact" data-testid="authz-generated-callers">
              <thead>
                <tr>
                  <th>Caller</th>
                  <th className="num">Calls</th>
                  <th className="num">mTLS</th>
                  <th>Rule</th>
                </tr>
              </thead>
              <tbody>
                {g.callers.map((c) => (
                  <tr key={c.source} data-testid={`authz-generated-caller-${c.source}`} data-status={c.status}>
                    <td title={c.principal ?? undefined}>{c.source}</td>
                    <td className="num">{c.requests}</td>
                    <td className="num">{c.mtlsPct === null ? "?" : `${c.mtlsPct}%`}</td>
                    <td className="small">
                      {c.status === "new-rule" ? "new" : c.status === "already-allowed" ? "allowed already" : "none"} · {c.note}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {g.diff.length > 0 ? (
            <div data-testid="authz-generated-diff">
              {g.diff.map((line) => (
                <p key={line} className={`diff-line ${line.startsWith("+") ? "add" : line.startsWith("-") ? "remove" : ""}`}>
                  {line}
                </p>
              ))}
            </div>
          ) : (
            <p className="small muted">Nothing to add: every caller with an identity is allowed already.</p>
          )}
          <div className="actions">
            <button
              type="button"
              className="btn primary"
              disabled={g.added.length === 0 || apply.isPending}
              data-testid="authz-generated-apply"
              onClick={() => apply.mutate({ name, minutes: g.minutes, rules: g.added })}
            >
              Apply {g.added.length} rule{g.added.length === 1 ? "" : "s"}
            </button>
            <button type="button" className="btn" onClick={() => setAsked(null)}>
              Cancel
            </button>
          </div>
          {apply.error && <p className="error small">{apply.error.message}</p>}
        </div>
      )}
      {applied && (
        <p className="small" data-testid="authz-generated-applied" data-revision={applied.revision ?? ""} data-version={applied.configVersion}>
          <CheckIcon size={12} />{" "}
          {applied.revision === null ? "nothing changed" : `applied as revision #${applied.revision} (config v${applied.configVersion})`}
        </p>
      )}
    </div>
  );
}

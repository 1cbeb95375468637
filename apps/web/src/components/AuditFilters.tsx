"use client";
/** The audit page's filters: actor, action, outcome and time range. Applied on submit (a form: Enter works). */
import { useState } from "react";

export interface AuditFilterValues {
  actor: string;
  action: string;
  outcome: "" | "success" | "failure" | "throttled";
  /** "1h" | "24h" | "7d" | "" (all time) | "custom" (from/to). */
  range: string;
  from: string;
  to: string;
}

export const NO_FILTER: AuditFilterValues = { actor: "", action: "", outcome: "", range: "24h", from: "", to: "" };

const ACTIONS: [string, string][] = [
  ["", "any action"],
  ["auth.", "sign-in / sign-out"],
  ["auth.signin", "sign-in"],
  ["auth.signout", "sign-out"],
  ["user.", "users"],
  ["token.", "join tokens"],
  ["config.", "config changes"],
];
const RANGES: [string, string][] = [
  ["1h", "last hour"],
  ["24h", "last 24 hours"],
  ["7d", "last 7 days"],
  ["", "all time"],
  ["custom", "custom…"],
];

export function AuditFilters({ value, onApply }: { value: AuditFilterValues; onApply: (v: AuditFilterValues) => void }) {
  const [v, setV] = useState(value);
  const set = (k: keyof AuditFilterValues) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <form
      className="filters"
      data-testid="audit-filters"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(v);
      }}
    >
      <input placeholder="actor (username)" value={v.actor} onChange={set("actor")} data-testid="audit-actor" />
      <select value={v.action} onChange={set("action")} data-testid="audit-action">
        {ACTIONS.map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      <select value={v.outcome} onChange={set("outcome")} data-testid="audit-outcome">
        <option value="">any outcome</option>
        <option value="success">success</option>
        <option value="failure">failure</option>
        <option value="throttled">throttled</option>
      </select>
      <select value={v.range} onChange={set("range")} data-testid="audit-range">
        {RANGES.map(([k, label]) => (
          <option key={k} value={k}>
            {label}
          </option>
        ))}
      </select>
      {v.range === "custom" && (
        <>
          <input type="datetime-local" value={v.from} onChange={set("from")} aria-label="from" data-testid="audit-from" />
          <input type="datetime-local" value={v.to} onChange={set("to")} aria-label="to" data-testid="audit-to" />
        </>
      )}
      <button type="submit" data-testid="audit-apply">
        Apply
      </button>
    </form>
  );
}

/** The filters as the audit.list input. */
export function auditQuery(v: AuditFilterValues, now = Date.now()) {
  const span: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };
  const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
  return {
    limit: 200,
    ...(v.actor.trim() ? { actor: v.actor.trim() } : {}),
    ...(v.action ? { action: v.action } : {}),
    ...(v.outcome ? { outcome: v.outcome } : {}),
    ...(span[v.range] ? { from: new Date(now - span[v.range]).toISOString() } : {}),
    ...(v.range === "custom" ? { from: iso(v.from), to: iso(v.to) } : {}),
  };
}

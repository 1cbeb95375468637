import type { Health } from "../../shared/live-types.ts";

export function HealthBadge({ health }: { health: Health | string }) {
  return (
    <span className={`badge health-${health}`} data-testid="health-badge" data-health={health}>
      {health}
    </span>
  );
}

export function SyncBadge({ state }: { state: string }) {
  return (
    <span className={`badge sync-${state.toLowerCase()}`} data-testid="sync-badge" data-sync={state}>
      {state}
    </span>
  );
}

export function ConnBadge({ connected }: { connected: boolean }) {
  return (
    <span className={`badge ${connected ? "conn-up" : "conn-down"}`} data-testid="conn-badge" data-connected={String(connected)}>
      {connected ? "connected" : "disconnected"}
    </span>
  );
}

export function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

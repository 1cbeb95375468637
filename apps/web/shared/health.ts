import type { Health } from "./live-types.ts";

/** Error-rate thresholds (percent) for node and edge colour. */
export const HEALTH_THRESHOLDS = Object.freeze({ warningPct: 1, criticalPct: 5 });

/** No traffic: idle; error rate < 1 %: healthy; < 5 %: warning; otherwise critical. */
export function healthOf(requests: number, errorPct: number): Health {
  if (requests <= 0) return "idle";
  if (errorPct < HEALTH_THRESHOLDS.warningPct) return "healthy";
  if (errorPct < HEALTH_THRESHOLDS.criticalPct) return "warning";
  return "critical";
}

export const HEALTH_COLORS: Record<Health, string> = {
  healthy: "#16a34a",
  warning: "#d97706",
  critical: "#dc2626",
  idle: "#94a3b8",
};

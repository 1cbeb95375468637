/**
 * Endpoint pickers over a target set. Ejected endpoints are skipped; when every endpoint is ejected and `panic` is
 * set, the one whose ejection ends first is tried anyway (ejection is a guess; a refused call then says so).
 */
import type { LoadBalancer } from "@trellis/protocol";
import type { Target, TargetSet } from "../config/routes.ts";

function firstHealthy(ts: Target[], now: number, offset: number): Target | null {
  const n = ts.length;
  for (let k = 0; k < n; k++) {
    const t = ts[(offset + k) % n];
    if (!t.ep.isEjected(now)) return t;
  }
  return null;
}

function leastEjected(ts: Target[]): Target | null {
  let best: Target | null = null;
  for (const t of ts) if (best === null || t.ep.ejectedUntil < best.ep.ejectedUntil) best = t;
  return best;
}

/** Power of two choices: two distinct random endpoints, the cheaper wins (cost = (in-flight + 1) × EWMA latency). */
function p2c(ts: Target[], now: number, byLatency: boolean): Target | null {
  const n = ts.length;
  if (n === 1) return ts[0].ep.isEjected(now) ? null : ts[0];
  const i = (Math.random() * n) | 0;
  let j = (Math.random() * (n - 1)) | 0;
  if (j >= i) j++;
  const a = ts[i];
  const b = ts[j];
  const aOk = !a.ep.isEjected(now);
  const bOk = !b.ep.isEjected(now);
  if (aOk && bOk) {
    if (byLatency) return a.ep.cost(now) <= b.ep.cost(now) ? a : b;
    return a.ep.inflight <= b.ep.inflight ? a : b;
  }
  if (aOk) return a;
  if (bOk) return b;
  return firstHealthy(ts, now, i);
}

function roundRobin(set: TargetSet, now: number): Target | null {
  const ts = set.targets;
  const start = set.rr;
  set.rr = (start + 1) % ts.length;
  return firstHealthy(ts, now, start);
}

export function pickTarget(set: TargetSet, lb: LoadBalancer, now: number, panic: boolean): Target | null {
  const ts = set.targets;
  if (ts.length === 0) return null;
  let t: Target | null;
  switch (lb) {
    case "round-robin":
      t = roundRobin(set, now);
      break;
    case "least-request":
      t = p2c(ts, now, false);
      break;
    default:
      t = p2c(ts, now, true);
  }
  if (t === null && panic) t = leastEjected(ts);
  return t;
}

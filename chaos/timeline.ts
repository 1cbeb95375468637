/**
 * Every request of the chaos run's load, by when it was SENT (not when it settled): a request that hangs through a
 * fault belongs to the fault. Success rates and recovery times are computed over these, nothing is sampled.
 */
import type { LoadResult } from "../examples/shop/src/loadgen.ts";

export interface Window {
  sent: number;
  /** Not failed: 2xx, and the apps' own 4xx answers (out of stock, empty cart). */
  ok: number;
  /** Of `ok`, the apps' own 4xx answers (a status without the agent's `x-trellis-error`). */
  appRefusals: number;
  /** ok / sent, or null when nothing was sent. */
  rate: number | null;
  /** Failure reasons (status + x-trellis-error, or socket error) and their counts. */
  failures: Record<string, number>;
}

/**
 * A failure is what the mesh is judged on: a 5xx, a proxy-made error (its `x-trellis-error` follows the status) or a
 * socket error. A plain 4xx is the app's own answer (the shop says 409 when stock runs out under a spike): not one.
 */
export function failed(r: LoadResult): boolean {
  return !r.ok && !/^4\d\d$/.test(r.reason);
}

export class Timeline {
  readonly results: LoadResult[] = [];

  record(r: LoadResult): void {
    this.results.push(r);
  }

  /** Requests sent in [from, to) (unix ms). */
  window(from: number, to: number): Window {
    let sent = 0;
    let ok = 0;
    let appRefusals = 0;
    const failures: Record<string, number> = {};
    for (const r of this.results) {
      if (r.sentAt < from || r.sentAt >= to) continue;
      sent++;
      if (!failed(r)) {
        ok++;
        if (!r.ok) appRefusals++;
      } else failures[r.reason] = (failures[r.reason] ?? 0) + 1;
    }
    return { sent, ok, appRefusals, rate: sent ? ok / sent : null, failures };
  }

  /**
   * Recovery: from `from` (the fault, or the end of a fault that lasts) to the last failed request sent before `until`,
   * rounded up to the next `stepMs`. 0 when nothing failed. Null when failures go on to the end of the observation:
   * not recovered within it.
   */
  recoveryMs(from: number, until: number, stepMs = 250): number | null {
    let last = -1;
    for (const r of this.results) if (failed(r) && r.sentAt >= from && r.sentAt < until && r.sentAt > last) last = r.sentAt;
    if (last < 0) return 0;
    // Steady means the last 3 s of the observation were clean.
    if (until - last < 3_000) return null;
    return Math.ceil((last - from + 1) / stepMs) * stepMs;
  }

  /** Settled requests so far (for waiting on load without sleeping blindly). */
  get count(): number {
    return this.results.length;
  }
}

/**
 * When the next push round runs, as a pure function of what is pending (no timers, no clock: callers pass `now`).
 *
 * A config change is pushed after the short debounce (tens of ms: the push-latency budget). Membership changes — agents
 * joining or leaving, a restart grace expiring — wait for a quiet period and at most a maximum since the first one
 * pending (Istio's PILOT_DEBOUNCE_AFTER / PILOT_DEBOUNCE_MAX): a thousand agents joining at once then cost a handful of
 * config versions instead of one per agent, each sent to every agent. A joining agent does not wait for it: it gets
 * the current version at once (Publisher.welcome), and the endpoints of its peers with the next round.
 */
export type RoundCause = "change" | "membership";

export interface RoundTiming {
  debounceMs: number;
  membershipQuietMs: number;
  membershipMaxMs: number;
}

export interface PendingRound {
  /** When the round runs (epoch ms). */
  due: number;
  cause: RoundCause;
  /** When the oldest membership change it carries happened (null: none). */
  membershipSince: number | null;
}

/** The pending round after a change of `cause` at `now` (`pending` null: none was scheduled). */
export function scheduleAt(pending: PendingRound | null, cause: RoundCause, now: number, t: RoundTiming): PendingRound {
  if (cause === "change") {
    const due = now + t.debounceMs;
    // A round due sooner takes this change too.
    if (pending && pending.due <= due) return pending;
    return { due, cause, membershipSince: pending?.membershipSince ?? null };
  }
  const since = pending?.membershipSince ?? now;
  // A config change's round comes first and carries the membership change with it.
  if (pending?.cause === "change") return { ...pending, membershipSince: since };
  const due = Math.max(now + t.debounceMs, Math.min(now + t.membershipQuietMs, since + t.membershipMaxMs));
  return { due, cause, membershipSince: since };
}

/**
 * A lease for work that must run on one replica at a time, as a pure state machine.
 *
 * `decide` says what a replica may do with the lease row it read: take it (no row, or the holder's expiry passed),
 * renew it (it holds it) or wait (another replica holds it and has not expired). The repository turns "take" and
 * "renew" into a compare-and-set on the row it read, so two replicas that read the same expired row cannot both win.
 * `observe` folds the outcome of an attempt into the replica's local view; `holding` says whether it may act now: only
 * until a margin before the expiry it wrote, so a holder that stops renewing stops acting before another can take over.
 */

export interface LeaseRow {
  name: string;
  /** Replica id of the holder. */
  holder: string;
  /** Unix ms. */
  expiresAt: number;
}

export type LeaseDecision =
  | { kind: "take"; expected: LeaseRow | null }
  | { kind: "renew"; expected: LeaseRow }
  | { kind: "wait"; holder: string; expiresAt: number };

export function decide(row: LeaseRow | null, me: string, now: number): LeaseDecision {
  if (row === null) return { kind: "take", expected: null };
  if (row.holder === me) return { kind: "renew", expected: row };
  if (row.expiresAt <= now) return { kind: "take", expected: row };
  return { kind: "wait", holder: row.holder, expiresAt: row.expiresAt };
}

/** What this replica knows about one lease. */
export type LeaseView = { state: "free" } | { state: "held"; expiresAt: number } | { state: "elsewhere"; holder: string; expiresAt: number };

/** The result of one attempt: the row as it stands afterwards (null when the attempt failed: database down). */
export type AttemptOutcome = { row: LeaseRow } | { row: null };

export function observe(view: LeaseView, me: string, outcome: AttemptOutcome, now: number): LeaseView {
  const row = outcome.row;
  if (row === null) {
    // Unknown: keep acting only while what we wrote last is still valid (holding() applies the margin).
    return view.state === "held" && view.expiresAt > now ? view : { state: "free" };
  }
  if (row.holder === me) return { state: "held", expiresAt: row.expiresAt };
  return { state: "elsewhere", holder: row.holder, expiresAt: row.expiresAt };
}

/** May this replica do the leased work now? Until `marginMs` before the expiry it wrote (clock skew, slow renewals). */
export function holding(view: LeaseView, now: number, marginMs: number): boolean {
  return view.state === "held" && now < view.expiresAt - marginMs;
}

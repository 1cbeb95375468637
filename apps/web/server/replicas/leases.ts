/**
 * `runExclusively(name, job)`: background work that must run on one replica at a time (rollups, retention, canary
 * analysis) runs only on the replica holding the lease `name` in the database.
 *
 * A name is contended for from its first `runExclusively` on: every `renewEveryMs` the keeper renews the leases it
 * holds and tries to take those whose holder stopped renewing (expired). So when the holder dies its leases move
 * within `ttlMs + renewEveryMs`. A job gets an AbortSignal that fires when the lease is lost (or the console stops).
 * On SQLite (one process) the same code runs and the only replica always wins.
 */
import type { Logger } from "../log.ts";
import type { LeaseRepository } from "../repositories/leases.ts";
import { decide, holding, type LeaseView, observe } from "./lease.ts";

export interface LeaseOptions {
  /** How long a taken or renewed lease lasts without renewal. */
  ttlMs: number;
  /** Renewal (and take-over) attempts. */
  renewEveryMs: number;
  /** A holder stops acting this long before its lease expires (clock skew between replicas, slow renewals). */
  marginMs: number;
}

export function leaseOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LeaseOptions {
  const raw = Number(env.TRELLIS_LEASE_TTL_MS);
  const ttlMs = Number.isFinite(raw) && raw >= 300 ? raw : 15_000;
  return { ttlMs, renewEveryMs: Math.round(ttlMs / 3), marginMs: Math.round(ttlMs / 6) };
}

export type ExclusiveResult<T> = { ran: true; value: T } | { ran: false; holder: string | null };

/** What jobs are handed: run `job` only if this replica holds the lease `name`. */
export type RunExclusively = <T>(name: string, job: (signal: AbortSignal) => Promise<T>) => Promise<ExclusiveResult<T>>;

/** For a console of one (tests, tools): every job runs here. */
export const runHere: RunExclusively = async (_name, job) => ({ ran: true, value: await job(new AbortController().signal) });

export class LeaseKeeper {
  private readonly views = new Map<string, LeaseView>();
  private readonly attempts = new Map<string, Promise<void>>();
  private readonly running = new Map<string, Set<AbortController>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly repo: Pick<LeaseRepository, "read" | "compareAndSet" | "release">,
    /** This replica's id: the holder written into leases. */
    readonly holder: string,
    readonly options: LeaseOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  readonly runExclusively: RunExclusively = async (name, job) => {
    if (!this.views.has(name)) this.views.set(name, { state: "free" });
    if (!this.holds(name)) await this.attempt(name);
    const view = this.views.get(name)!;
    if (this.closed || !this.holds(name)) return { ran: false, holder: view.state === "elsewhere" ? view.holder : null };
    const abort = new AbortController();
    const jobs = this.running.get(name) ?? new Set();
    this.running.set(name, jobs.add(abort));
    try {
      return { ran: true, value: await job(abort.signal) };
    } finally {
      jobs.delete(abort);
    }
  };

  /** Does this replica hold `name` now (renewed, not within the margin of its expiry)? */
  holds(name: string): boolean {
    const view = this.views.get(name);
    return view !== undefined && holding(view, this.now(), this.options.marginMs);
  }

  /** The names this replica holds now. */
  held(): string[] {
    return [...this.views.keys()].filter((n) => this.holds(n));
  }

  start(): void {
    this.timer = setInterval(() => {
      for (const name of this.views.keys()) void this.attempt(name);
    }, this.options.renewEveryMs);
    this.timer.unref();
  }

  /** One renewal or take-over attempt for `name` (concurrent callers share it). */
  attempt(name: string): Promise<void> {
    const inflight = this.attempts.get(name);
    if (inflight) return inflight;
    const p = this.tryOnce(name).finally(() => this.attempts.delete(name));
    this.attempts.set(name, p);
    return p;
  }

  private async tryOnce(name: string): Promise<void> {
    if (this.closed) return;
    const before = this.views.get(name) ?? { state: "free" };
    let row: Awaited<ReturnType<LeaseRepository["read"]>> = null;
    let failed = false;
    try {
      const now = this.now();
      const current = await this.repo.read(name);
      const d = decide(current, this.holder, now);
      row = d.kind === "wait" ? current : await this.repo.compareAndSet(name, d.expected, this.holder, now + this.options.ttlMs, now);
    } catch (err) {
      failed = true;
      this.log.warn("lease attempt failed", { lease: name, error: (err as Error).message });
    }
    const after = observe(before, this.holder, failed ? { row: null } : { row: row! }, this.now());
    this.views.set(name, after);
    const was = before.state === "held";
    const is = after.state === "held";
    if (!was && is) this.log.info("lease acquired", { lease: name, holder: this.holder });
    if (was && !is) {
      this.log.warn("lease lost", { lease: name, holder: after.state === "elsewhere" ? after.holder : null });
      for (const job of this.running.get(name) ?? []) job.abort(new Error(`lease ${name} lost`));
    }
  }

  /** Stops contending; running jobs are aborted and held leases released, so another replica takes them at once. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const jobs of this.running.values()) for (const job of jobs) job.abort(new Error("console stopping"));
    const held = [...this.views.entries()].filter(([, v]) => v.state === "held").map(([n]) => n);
    await Promise.all(held.map((n) => this.repo.release(n, this.holder, this.now()).catch(() => undefined)));
  }
}

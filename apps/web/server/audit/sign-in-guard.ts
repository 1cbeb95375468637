/**
 * Sign-in throttling per username tried and per client address (two Throttles, throttle.ts). An attempt is refused
 * when either key is locked; a failure counts against both; a success clears the username's key only (an address
 * trying many accounts stays throttled). The username key is the name as typed (lower-cased), whether or not such a
 * user exists: the answer never tells which usernames exist. A refusal says whether it is the first of its lock
 * (`first`): refused attempts cost an attacker nothing, so only the first of each lock is worth an audit row.
 */
import { Throttle, type ThrottlePolicy } from "./throttle.ts";

export type SignInDecision = { allowed: true } | { allowed: false; retryAfterMs: number; first: boolean };

export interface SignInGuardOptions {
  perUser: ThrottlePolicy;
  perAddress: ThrottlePolicy;
  now?: () => number;
}

export const DEFAULT_SIGN_IN_GUARD: SignInGuardOptions = {
  perUser: { freeFailures: 5, baseMs: 1_000, maxMs: 15 * 60_000, forgetMs: 15 * 60_000, maxKeys: 10_000 },
  perAddress: { freeFailures: 20, baseMs: 1_000, maxMs: 15 * 60_000, forgetMs: 15 * 60_000, maxKeys: 10_000 },
};

export function signInGuardOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SignInGuardOptions {
  const n = (v: string | undefined, d: number) => (v !== undefined && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : d);
  const d = DEFAULT_SIGN_IN_GUARD;
  const baseMs = n(env.TRELLIS_SIGNIN_LOCK_MS, d.perUser.baseMs);
  return {
    perUser: { ...d.perUser, baseMs, freeFailures: n(env.TRELLIS_SIGNIN_FREE_FAILURES, d.perUser.freeFailures) },
    perAddress: { ...d.perAddress, baseMs, freeFailures: n(env.TRELLIS_SIGNIN_FREE_FAILURES_PER_ADDRESS, d.perAddress.freeFailures) },
  };
}

export class SignInGuard {
  private readonly users: Throttle;
  private readonly addresses: Throttle;
  private readonly now: () => number;

  constructor(opts: SignInGuardOptions = DEFAULT_SIGN_IN_GUARD) {
    this.users = new Throttle(opts.perUser);
    this.addresses = new Throttle(opts.perAddress);
    this.now = opts.now ?? Date.now;
  }

  check(username: string, address: string): SignInDecision {
    const now = this.now();
    const u = this.users.check(username.toLowerCase(), now);
    const a = this.addresses.check(address, now);
    if (u.allowed && a.allowed) return { allowed: true };
    return {
      allowed: false,
      retryAfterMs: Math.max(u.allowed ? 0 : u.retryAfterMs, a.allowed ? 0 : a.retryAfterMs),
      first: (!u.allowed && u.refusals === 1) || (!a.allowed && a.refusals === 1),
    };
  }

  failed(username: string, address: string): void {
    const now = this.now();
    this.users.failure(username.toLowerCase(), now);
    this.addresses.failure(address, now);
  }

  succeeded(username: string): void {
    this.users.success(username.toLowerCase());
  }
}

/**
 * Sign-in throttling: a small pure state machine per key (a username tried, or a client address), driven by the
 * caller's clock (`now` in ms), so tests use a fake one.
 *
 *   free    fewer than `freeFailures` recent failures: every attempt is allowed
 *   locked  each failure past that locks the key for `baseMs · 2^(n - freeFailures)`, capped at `maxMs`
 *
 * A success clears the key; failures older than `forgetMs` (counted from the last failure) are forgotten. At most
 * `maxKeys` keys are kept (the least recently failed one goes first), so a spray of usernames cannot grow memory.
 */

export interface ThrottlePolicy {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  maxKeys: number;
}

/** `refusals`: how many attempts this lock has refused so far, this one included (1 = the first). */
export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number; refusals: number };

interface KeyState {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
  refusals: number;
}

export class Throttle {
  private readonly keys = new Map<string, KeyState>();

  constructor(readonly policy: ThrottlePolicy) {}

  private live(key: string, now: number): KeyState | undefined {
    const s = this.keys.get(key);
    if (s !== undefined && now - s.lastFailure >= this.policy.forgetMs && now >= s.lockedUntil) {
      this.keys.delete(key);
      return undefined;
    }
    return s;
  }

  /** May `key` try now? A refusal is counted (per lock). */
  check(key: string, now: number): ThrottleDecision {
    const s = this.live(key, now);
    if (s === undefined || now >= s.lockedUntil) return { allowed: true };
    s.refusals++;
    return { allowed: false, retryAfterMs: s.lockedUntil - now, refusals: s.refusals };
  }

  /** Records a failed attempt; returns the lock it set (0 while the key is still free). */
  failure(key: string, now: number): number {
    const s = this.live(key, now) ?? { failures: 0, lastFailure: now, lockedUntil: 0, refusals: 0 };
    s.failures++;
    s.lastFailure = now;
    const over = s.failures - this.policy.freeFailures;
    const lock = over < 0 ? 0 : Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** Math.min(over, 30));
    s.lockedUntil = lock > 0 ? now + lock : 0;
    s.refusals = 0;
    this.keys.delete(key); // re-insert: the map's order is the failures' recency
    this.keys.set(key, s);
    while (this.keys.size > this.policy.maxKeys) this.keys.delete(this.keys.keys().next().value as string);
    return lock;
  }

  success(key: string): void {
    this.keys.delete(key);
  }

  get size(): number {
    return this.keys.size;
  }
}

/** The load generator's pure parts: the request mix, a seeded PRNG and the evenly spread arrival schedule. */

export type Kind = "browse" | "product" | "addToCart" | "checkout";

/** Shares of the mix, in percent: browse products 50, product page 25, add to cart 15, checkout 10. */
export const MIX: ReadonlyArray<{ kind: Kind; weight: number }> = [
  { kind: "browse", weight: 50 },
  { kind: "product", weight: 25 },
  { kind: "addToCart", weight: 15 },
  { kind: "checkout", weight: 10 },
];

/** mulberry32: small, fast, seedable; good enough for picking requests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickKind(rng: () => number, mix = MIX): Kind {
  const total = mix.reduce((s, m) => s + m.weight, 0);
  let x = rng() * total;
  for (const m of mix) {
    if (x < m.weight) return m.kind;
    x -= m.weight;
  }
  return mix[mix.length - 1].kind;
}

/**
 * Evenly spread arrivals: request n is due at start + n / rps. `due(now)` returns how many requests are due now
 * (normally 0 or 1; more only when the event loop stalled), and `nextDelay(now)` how long to sleep until the next one.
 * A stall longer than `maxCatchUpMs` is not paid back as a burst: the schedule skips ahead and counts what it skipped.
 */
export class Schedule {
  private sent = 0;
  skipped = 0;
  readonly intervalMs: number;

  constructor(
    readonly rps: number,
    private start: number,
    private readonly maxCatchUpMs = 200,
  ) {
    if (!(rps > 0)) throw new RangeError("rps must be > 0");
    this.intervalMs = 1000 / rps;
  }

  private dueAt(n: number): number {
    return this.start + n * this.intervalMs;
  }

  due(now: number): number {
    const behind = now - this.dueAt(this.sent);
    if (behind > this.maxCatchUpMs) {
      const skip = Math.floor((behind - this.maxCatchUpMs) / this.intervalMs) + 1;
      this.skipped += skip;
      this.sent += skip;
    }
    let n = 0;
    while (this.dueAt(this.sent) <= now) {
      this.sent++;
      n++;
    }
    return n;
  }

  nextDelay(now: number): number {
    return Math.max(0, this.dueAt(this.sent) - now);
  }

  get scheduled(): number {
    return this.sent;
  }
}

/** Nearest-rank percentile of a sample (sorts a copy). */
export function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Counts per window: requests, successes (2xx), failures by reason, latencies. */
export class Stats {
  sent = 0;
  ok = 0;
  failed = 0;
  readonly byKind: Record<string, { n: number; ok: number }> = {};
  readonly failures: Record<string, number> = {};
  readonly latencies: number[] = [];

  record(kind: Kind, ok: boolean, ms: number, reason?: string): void {
    this.sent++;
    this.byKind[kind] ??= { n: 0, ok: 0 };
    const k = this.byKind[kind];
    k.n++;
    if (ok) {
      this.ok++;
      k.ok++;
    } else {
      this.failed++;
      const r = reason ?? "unknown";
      this.failures[r] = (this.failures[r] ?? 0) + 1;
    }
    this.latencies.push(ms);
  }

  summary(seconds: number) {
    const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
    return {
      window_s: Math.round(seconds * 10) / 10,
      sent: this.sent,
      ok: this.ok,
      failed: this.failed,
      success_pct: this.sent ? Math.round((this.ok / this.sent) * 10000) / 100 : null,
      rps: round(seconds > 0 ? this.sent / seconds : 0),
      p50_ms: round(percentile(this.latencies, 50)),
      p99_ms: round(percentile(this.latencies, 99)),
      kinds: this.byKind,
      failures: this.failures,
    };
  }
}

/**
 * A retry budget (as Finagle's / Linkerd's): over a sliding window of 10 one-second buckets, retries may reach
 * `ratio` × requests + `minRetriesPerSecond` × 10. Every request deposits, every retry withdraws; a retry the budget
 * cannot pay for is not made. Constant memory, O(10) per decision, no timers.
 */
const BUCKETS = 10;

export class RetryBudget {
  private readonly deposits = new Float64Array(BUCKETS);
  private readonly withdrawals = new Float64Array(BUCKETS);
  private sec = 0;
  /** Retries refused by the budget (cumulative). */
  refused = 0;
  granted = 0;

  constructor(
    readonly ratio: number,
    readonly minRetriesPerSecond: number,
  ) {}

  private advance(nowMs: number): number {
    const sec = Math.floor(nowMs / 1000);
    if (sec !== this.sec) {
      const gap = sec - this.sec;
      if (gap >= BUCKETS || gap < 0) {
        this.deposits.fill(0);
        this.withdrawals.fill(0);
      } else {
        for (let s = this.sec + 1; s <= sec; s++) {
          this.deposits[s % BUCKETS] = 0;
          this.withdrawals[s % BUCKETS] = 0;
        }
      }
      this.sec = sec;
    }
    return sec % BUCKETS;
  }

  deposit(nowMs: number): void {
    this.deposits[this.advance(nowMs)]++;
  }

  /** Takes one retry from the budget if it allows it. */
  tryWithdraw(nowMs: number): boolean {
    const i = this.advance(nowMs);
    let d = 0;
    let w = 0;
    for (let k = 0; k < BUCKETS; k++) {
      d += this.deposits[k];
      w += this.withdrawals[k];
    }
    if (w + 1 > d * this.ratio + this.minRetriesPerSecond * BUCKETS + 1e-9) {
      this.refused++;
      return false;
    }
    this.withdrawals[i]++;
    this.granted++;
    return true;
  }
}

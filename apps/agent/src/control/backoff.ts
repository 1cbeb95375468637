/** Capped exponential backoff with full jitter: delay ∈ [0, min(cap, base·2^attempt)). */
export class Backoff {
  private attempt = 0;
  constructor(
    readonly baseMs = 250,
    readonly capMs = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

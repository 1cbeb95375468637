/**
 * The launcher's restart policy. Its children are process groups from @trellis/testkit/process: each spawned detached,
 * i.e. leader of its own process group, so that stopping it stops everything it started, and a terminal's Ctrl-C
 * reaches only the launcher, which then stops children in order.
 */

/** Restart delays: 0.5 s doubling to 10 s; a child that ran for 30 s starts over from 0.5 s. */
export class Backoff {
  private failures = 0;
  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 10_000,
    private readonly healthyAfterMs = 30_000,
  ) {}

  next(ranForMs: number): number {
    if (ranForMs >= this.healthyAfterMs) this.failures = 0;
    const d = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures++;
    return d;
  }
}

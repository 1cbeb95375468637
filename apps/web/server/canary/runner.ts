/**
 * Runs the canary analysis in the background: every `tickMs` it asks the scheduler whether this process is the one
 * that runs it, and if so lets `Canaries.tick` check the rollouts that are due. State is in the database, so a
 * console that stops and starts again (or another process that takes over) carries on from there.
 *
 * `CanaryScheduler` is the hook for several console replicas: the default runs here (one process); a database lease
 * (run-once background work, issue 14 / replicas) plugs in as a scheduler whose `runsHere()` is true only on the
 * lease holder.
 */
import type { Logger } from "../log.ts";
import type { Canaries } from "./canaries.ts";

export interface CanaryScheduler {
  /** Whether this process runs the canary analysis now. */
  runsHere(): boolean | Promise<boolean>;
}

/** One console process: it always runs the analysis. */
export const THIS_PROCESS: CanaryScheduler = { runsHere: () => true };

export class CanaryRunner {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly canaries: Pick<Canaries, "tick">,
    private readonly log: Logger,
    private readonly opts: { scheduler?: CanaryScheduler; tickMs?: number } = {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.opts.tickMs ?? 1_000);
    this.timer.unref();
  }

  /** One round (skipped while the previous one still runs). */
  async round(): Promise<void> {
    if (this.running) return;
    const work = (async () => {
      if (!(await (this.opts.scheduler ?? THIS_PROCESS).runsHere())) return;
      await this.canaries.tick();
    })();
    this.running = work;
    try {
      await work;
    } catch (err) {
      this.log.error("canary round failed", { error: (err as Error).message });
    } finally {
      this.running = null;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}

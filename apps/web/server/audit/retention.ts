/**
 * Audit retention: events older than TRELLIS_AUDIT_MAX_AGE_DAYS (default 365) are deleted at start and every
 * TRELLIS_AUDIT_PRUNE_MS (default 6 h) after it. The timer never keeps the process alive.
 */
import type { Logger } from "../log.ts";
import { type RunExclusively, runHere } from "../replicas/leases.ts";
import type { Repositories } from "../repositories/index.ts";

export interface AuditRetentionOptions {
  maxAgeDays: number;
  pruneMs: number;
}

export function auditRetentionFromEnv(env: Record<string, string | undefined> = process.env): AuditRetentionOptions {
  const n = (v: string | undefined, d: number) => (v !== undefined && Number(v) > 0 ? Number(v) : d);
  return { maxAgeDays: n(env.TRELLIS_AUDIT_MAX_AGE_DAYS, 365), pruneMs: n(env.TRELLIS_AUDIT_PRUNE_MS, 6 * 3600_000) };
}

export class AuditRetention {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repos: Pick<Repositories, "audit">,
    private readonly opts: AuditRetentionOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** Replicas: pruning runs on the holder of the `audit-retention` lease only. */
    private readonly exclusive: RunExclusively = runHere,
  ) {}

  async prune(): Promise<number> {
    try {
      const removed = await this.repos.audit.prune(new Date(this.now() - this.opts.maxAgeDays * 86_400_000));
      if (removed > 0) this.log.info("old audit events pruned", { removed, maxAgeDays: this.opts.maxAgeDays });
      return removed;
    } catch (err) {
      this.log.warn("audit prune failed", { error: (err as Error).message });
      return 0;
    }
  }

  async start(): Promise<void> {
    const prune = () => this.exclusive("audit-retention", () => this.prune());
    await prune();
    this.timer = setInterval(() => void prune(), this.opts.pruneMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

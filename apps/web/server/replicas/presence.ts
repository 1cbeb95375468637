/**
 * This replica among the consoles sharing the database: it writes its heartbeat every `heartbeatMs`; replicas whose
 * heartbeat is older than `ttlMs` are dead, and the first live replica to notice withdraws the agents they held (marks
 * them disconnected: their endpoints leave the next snapshots, unless they already reconnected to a live replica).
 */
import type { Logger } from "../log.ts";
import type { ReplicaRepository } from "../repositories/replicas.ts";

export interface PresenceOptions {
  heartbeatMs: number;
  ttlMs: number;
}

export function presenceOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PresenceOptions {
  const n = (name: string, def: number) => {
    const v = Number(env[name]);
    return env[name] && Number.isFinite(v) && v > 0 ? v : def;
  };
  const heartbeatMs = n("TRELLIS_REPLICA_HEARTBEAT_MS", 2_000);
  return { heartbeatMs, ttlMs: Math.max(n("TRELLIS_REPLICA_TTL_MS", 10_000), 2 * heartbeatMs) };
}

export class ReplicaPresence {
  private timer: NodeJS.Timeout | null = null;
  private url: string | null = null;

  constructor(
    private readonly repo: ReplicaRepository,
    readonly id: string,
    readonly options: PresenceOptions,
    private readonly log: Logger,
    /** Agents of dead replicas were withdrawn here: push rounds must follow (here and on the other replicas). */
    private readonly onReaped: (agents: number) => void,
  ) {}

  async start(url: string | null = null): Promise<void> {
    this.url = url;
    await this.repo.heartbeat(this.id, url, new Date());
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /** The URL is known only once the server listens. */
  setUrl(url: string): void {
    this.url = url;
  }

  async beat(now = new Date()): Promise<void> {
    try {
      await this.repo.heartbeat(this.id, this.url, now);
      const reaped = await this.repo.reapDead(this.id, new Date(now.getTime() - this.options.ttlMs), now);
      if (reaped.replicas.length > 0) {
        this.log.warn("replicas gone silent; their agents withdrawn", { replicas: reaped.replicas, agents: reaped.agents });
        if (reaped.agents > 0) this.onReaped(reaped.agents);
      }
    } catch (err) {
      this.log.warn("replica heartbeat failed", { error: (err as Error).message });
    }
  }

  /** The other replicas alive now. */
  async liveOthers(now = new Date()): Promise<string[]> {
    const alive = await this.repo.aliveSince(new Date(now.getTime() - this.options.ttlMs));
    return alive.filter((id) => id !== this.id);
  }

  /** Graceful stop: the row goes, so the others do not wait out the TTL. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.repo.remove(this.id).catch(() => undefined);
  }
}

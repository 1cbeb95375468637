/**
 * The console replicas sharing the database (issue 11): each writes its heartbeat; one whose heartbeat is older than
 * the TTL is dead, and a live replica withdraws the agents it held (their sockets died with it).
 */
import type { Db } from "../db.ts";

export interface ReplicaRow {
  id: string;
  url: string | null;
  startedAt: Date;
  heartbeatAt: Date;
}

export class ReplicaRepository {
  constructor(private readonly db: Db) {}

  async heartbeat(id: string, url: string | null, now: Date): Promise<void> {
    await this.db.replica.upsert({
      where: { id },
      create: { id, url, startedAt: now, heartbeatAt: now },
      update: { heartbeatAt: now, ...(url ? { url } : {}) },
    });
  }

  async list(): Promise<ReplicaRow[]> {
    return this.db.replica.findMany({ orderBy: { startedAt: "asc" } });
  }

  /** Ids of the replicas whose heartbeat is at least `since`. */
  async aliveSince(since: Date): Promise<string[]> {
    const rows = await this.db.replica.findMany({ where: { heartbeatAt: { gte: since } }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /**
   * Replicas silent since before `since` (other than `self`): their agents still marked connected are marked
   * disconnected and their rows removed. Returns how many agents were withdrawn. Idempotent: every live replica may run
   * it, the first one does the work.
   */
  async reapDead(self: string, since: Date, now: Date): Promise<{ replicas: string[]; agents: number }> {
    const dead = await this.db.replica.findMany({ where: { heartbeatAt: { lt: since }, id: { not: self } }, select: { id: true } });
    if (dead.length === 0) return { replicas: [], agents: 0 };
    const ids = dead.map((d) => d.id);
    const [agents] = await this.db.$transaction([
      this.db.instance.updateMany({ where: { connected: true, replicaId: { in: ids } }, data: { connected: false, lastSeen: now } }),
      this.db.replica.deleteMany({ where: { id: { in: ids }, heartbeatAt: { lt: since } } }),
    ]);
    return { replicas: ids, agents: agents.count };
  }

  /** A graceful stop: the row goes at once, so a successor does not wait out the TTL. */
  async remove(id: string): Promise<void> {
    await this.db.replica.deleteMany({ where: { id } });
  }
}

/** Sync state is live in memory; the database gets it a few times a second, in one transaction per write. */
import type { Logger } from "../log.ts";
import type { Repositories, SyncStateRow } from "../repositories/index.ts";
import { syncRow } from "./delivery.ts";
import type { SessionRegistry } from "./registry.ts";
import type { SerialQueue } from "./serial.ts";

export class SyncRecorder {
  /** Agents whose sync state changed since the last write. */
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly deps: { repos: Repositories; db: SerialQueue; sessions: SessionRegistry; log: Logger; flushMs: number; replicaId: string },
  ) {}

  /** The agent's sync state changed: written within `flushMs`. */
  markDirty(instanceId: string): void {
    this.dirty.add(instanceId);
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch((err) => this.deps.log.error("recording sync states failed", { error: err as Error }));
    }, this.deps.flushMs);
  }

  flush(): Promise<void> {
    const rows: SyncStateRow[] = [];
    for (const instanceId of this.dirty) {
      const s = this.deps.sessions.byInstanceId(instanceId);
      if (!s) continue; // disconnected: markDisconnected records it
      const { row, next } = syncRow(instanceId, s.delivery);
      rows.push(row);
      s.delivery = next;
    }
    this.dirty.clear();
    return this.deps.db.run(() => this.deps.repos.instances.recordSyncStates(rows, new Date(), this.deps.replicaId));
  }

  /** No more timed writes; what changed so far is written now. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}

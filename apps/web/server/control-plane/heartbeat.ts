/**
 * Liveness: a ws ping to every socket each `heartbeatMs`; a socket that missed 2 pongs is terminated (its close then
 * withdraws the endpoint). The same beat lets a newer snapshot past an in-flight one that timed out. Every
 * `touchIntervalMs` the connected instances' lastSeen is refreshed (the restart grace counts from it).
 */
import type { Logger } from "../log.ts";
import type { Repositories } from "../repositories/index.ts";
import type { SessionRegistry } from "./registry.ts";
import type { SnapshotSender } from "./sender.ts";
import type { SerialQueue } from "./serial.ts";

export interface HeartbeatDeps {
  repos: Repositories;
  db: SerialQueue;
  sessions: SessionRegistry;
  sender: Pick<SnapshotSender, "deliverOverdue">;
  log: Logger;
  heartbeatMs: number;
  touchIntervalMs: number;
}

export class Heartbeat {
  private beatTimer: NodeJS.Timeout | null = null;
  private touchTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: HeartbeatDeps) {}

  start(): void {
    this.beatTimer = setInterval(() => this.beat(), this.deps.heartbeatMs);
    this.touchTimer = setInterval(() => this.touch(), this.deps.touchIntervalMs);
  }

  stop(): void {
    for (const t of [this.beatTimer, this.touchTimer]) if (t) clearInterval(t);
    this.beatTimer = this.touchTimer = null;
  }

  /** One beat: pings, cuts off sockets that missed 2 pongs, lets overdue snapshots be superseded. */
  beat(): void {
    const now = Date.now();
    for (const session of this.deps.sessions) {
      if (!session.open) continue;
      if (session.missedPongs >= 2) {
        this.deps.log.warn("agent heartbeat lost; terminating", { instanceId: session.hello?.instanceId, remote: session.remote });
        session.ws.terminate();
        continue;
      }
      session.missedPongs++;
      session.ws.ping();
      this.deps.sender.deliverOverdue(session, now);
    }
  }

  private touch(): void {
    const ids = this.deps.sessions.instanceIds();
    if (ids.length === 0) return;
    this.deps.db
      .run(() => this.deps.repos.instances.touch(ids, new Date()))
      .catch((err) => this.deps.log.error("refreshing lastSeen failed", { error: err as Error }));
  }
}

/** Sends each agent the current config version through its delivery state machine, and takes its acks and nacks. */
import { randomBytes } from "node:crypto";
import type { AckFrame, NackFrame } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import type { ConfigVersion } from "./config-version.ts";
import { acked, type Delivery, nacked, offer, overdue, sent } from "./delivery.ts";
import type { ControlPlaneMetrics } from "./metrics.ts";
import type { AgentSession } from "./session.ts";

export interface SenderDeps {
  /** The config version being pushed. */
  versions: { readonly current: ConfigVersion | null };
  ackTimeoutMs: number;
  log: Logger;
  /** The agent's sync state changed (the recorder writes it). */
  onSyncChange: (instanceId: string) => void;
  /** The agent acked a version (a staged mTLS change may be complete). */
  onAck: () => void;
  metrics?: Pick<ControlPlaneMetrics, "snapshotAcked" | "snapshotNacked">;
}

export class SnapshotSender {
  constructor(private readonly deps: SenderDeps) {}

  /** Sends the current version now, or leaves it pending behind the in-flight one. */
  deliver(session: AgentSession): void {
    const current = this.deps.versions.current;
    const h = session.hello;
    if (!current || !h || session.phase !== "ready" || !session.open) return;
    const now = Date.now();
    const o = offer(session.delivery, now, this.deps.ackTimeoutMs);
    if (!o.send) {
      session.delivery = o.next;
      return;
    }
    const json = current.snapshotJson(h.service, this.deps.log);
    if (json === null) return;
    const nonce = randomBytes(12).toString("base64url");
    // A SnapshotFrame around the cached snapshot JSON (the nonce is base64url: nothing to escape).
    session.send(`{"type":"snapshot","version":${current.version},"nonce":"${nonce}","snapshot":${json}}`);
    session.delivery = sent(session.delivery, current.version, nonce, now);
    this.deps.log.debug("snapshot sent", { instanceId: h.instanceId, version: current.version });
    this.deps.onSyncChange(h.instanceId);
  }

  /** An in-flight snapshot that timed out no longer holds back the newest one. */
  deliverOverdue(session: AgentSession, now: number): void {
    if (overdue(session.delivery, now, this.deps.ackTimeoutMs)) this.deliver(session);
  }

  ack(session: AgentSession, frame: AckFrame): void {
    const sentAt = session.delivery.inFlight?.sentAt;
    if (!this.answered(session, frame, acked(session.delivery, frame))) return;
    if (sentAt !== undefined) this.deps.metrics?.snapshotAcked(Date.now() - sentAt);
    this.deps.onAck();
  }

  nack(session: AgentSession, frame: NackFrame): void {
    const h = session.hello!;
    const next = nacked(session.delivery, frame);
    if (next) {
      this.deps.metrics?.snapshotNacked();
      this.deps.log.warn("snapshot nacked", {
        instanceId: h.instanceId,
        service: h.service,
        version: frame.version,
        error: frame.error.slice(0, 500),
      });
    }
    this.answered(session, frame, next);
  }

  /** The agent answered the in-flight snapshot (`next` null: a stale answer, ignored); the newest pending one follows. */
  private answered(session: AgentSession, frame: AckFrame | NackFrame, next: Delivery | null): boolean {
    const h = session.hello!;
    if (!next) {
      this.deps.log.debug(`stale ${frame.type} ignored`, { instanceId: h.instanceId, version: frame.version });
      return false;
    }
    session.delivery = next;
    this.deps.onSyncChange(h.instanceId);
    if (next.pending) this.deliver(session);
    return true;
  }
}

/** Every open agent session, and which one holds each instance id (a newer connection replaces an older one). */
import type { WebSocket } from "ws";
import { AgentSession, type AgentSessionInfo } from "./session.ts";

export class SessionRegistry {
  private readonly all = new Set<AgentSession>();
  private readonly byInstance = new Map<string, AgentSession>();
  private nextId = 1;

  open(ws: WebSocket, remote: string): AgentSession {
    const session = new AgentSession(this.nextId++, ws, remote);
    this.all.add(session);
    return session;
  }

  remove(session: AgentSession): void {
    this.all.delete(session);
  }

  /** `session` now holds its hello's instance id; returns the older session that held it, if any. */
  claim(session: AgentSession): AgentSession | undefined {
    const id = session.hello!.instanceId;
    const previous = this.byInstance.get(id);
    this.byInstance.set(id, session);
    return previous && previous !== session ? previous : undefined;
  }

  /** Frees the instance id if `session` still holds it; false when a newer connection replaced it. */
  release(session: AgentSession): boolean {
    const id = session.hello?.instanceId;
    if (id === undefined || this.byInstance.get(id) !== session) return false;
    this.byInstance.delete(id);
    return true;
  }

  byInstanceId(instanceId: string): AgentSession | undefined {
    return this.byInstance.get(instanceId);
  }

  instanceIds(): string[] {
    return [...this.byInstance.keys()];
  }

  get connectedCount(): number {
    return this.byInstance.size;
  }

  /** Every session, in any phase. */
  [Symbol.iterator](): IterableIterator<AgentSession> {
    return this.all.values();
  }

  /** Sessions past the handshake. */
  *ready(): Generator<AgentSession> {
    for (const s of this.all) if (s.phase === "ready" && s.hello) yield s;
  }

  info(): AgentSessionInfo[] {
    const out: AgentSessionInfo[] = [];
    for (const s of this.all) {
      const i = s.info();
      if (i) out.push(i);
    }
    return out;
  }
}

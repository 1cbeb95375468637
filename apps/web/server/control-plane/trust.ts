/**
 * The mesh trust bundle on the agent sockets (CA rotation): a `trust` frame to each agent once it is registered and
 * to every agent whenever the bundle or the issuer changes; each agent's `trust-status` kept on its session, so the
 * rotation can tell which agents have reached its phase.
 */
import type { TrustFrame, TrustStatusFrame } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import type { AgentTrust } from "../security/rotation.ts";
import type { SessionRegistry } from "./registry.ts";
import type { AgentSession } from "./session.ts";

export interface TrustSource {
  frame(): TrustFrame;
  onChange(fn: () => void): void;
}

export class TrustPush {
  constructor(
    private readonly source: TrustSource | undefined,
    private readonly sessions: SessionRegistry,
    private readonly log: Logger,
  ) {
    source?.onChange(() => this.pushAll());
  }

  /** A registered agent gets the bundle before anything else it may wait for. */
  joined(session: AgentSession): void {
    if (this.source && session.open) session.send(JSON.stringify(this.source.frame()));
  }

  status(session: AgentSession, frame: TrustStatusFrame): void {
    session.trust = frame;
    this.log.debug("trust status", { instanceId: session.hello?.instanceId, generation: frame.generation, roots: frame.roots.length });
  }

  private pushAll(): void {
    if (!this.source) return;
    const text = JSON.stringify(this.source.frame());
    let sent = 0;
    for (const s of this.sessions.ready())
      if (s.open) {
        s.send(text);
        sent++;
      }
    this.log.info("trust bundle pushed", { agents: sent });
  }

  /** Every registered agent (the newest session of each instance) and what it last reported. */
  agents(): AgentTrust[] {
    const out: AgentTrust[] = [];
    for (const id of this.sessions.instanceIds()) {
      const s = this.sessions.byInstanceId(id);
      if (!s?.hello || s.phase !== "ready") continue;
      const t = s.trust;
      out.push({
        instanceId: id,
        service: s.hello.service,
        generation: t?.generation ?? 0,
        roots: t?.roots ?? [],
        certificateRoot: t?.certificateRoot ?? null,
      });
    }
    return out;
  }
}

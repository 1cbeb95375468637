/**
 * An agent's session from its first frame to its close: the hello within the timeout, the join token check
 * (hashed, looked up in the database; its scope must cover the service the agent claims, and its use is recorded),
 * registration (a newer connection with the same instance id replaces the older),
 * revocation of a join token, and the withdrawal of a closed agent's endpoint.
 *
 * Token checks, registrations and token-use records go through batchers (batcher.ts): hellos that arrive together —
 * a whole fleet after a console restart — cost one lookup and one transaction per batch, not per agent.
 */
import type { IncomingMessage } from "node:http";
import type { HelloFrame } from "@trellis/protocol";
import type { WebSocket } from "ws";
import { hashToken } from "../join-token.ts";
import type { Logger } from "../log.ts";
import type { Repositories } from "../repositories/index.ts";
import type { VerifiedJoinToken } from "../repositories/security.ts";
import { scopeCovers, scopeText } from "../security/token-scope.ts";
import { Batcher } from "./batcher.ts";
import { newDelivery } from "./delivery.ts";
import { CLOSE_BAD_TOKEN, CLOSE_HELLO_TIMEOUT, CLOSE_REPLACED, CLOSE_REVOKED, CLOSE_TOKEN_SCOPE } from "./options.ts";
import type { Publisher } from "./publisher.ts";
import type { SessionRegistry } from "./registry.ts";
import type { SerialQueue } from "./serial.ts";
import type { AgentSession } from "./session.ts";

export interface HandshakeDeps {
  repos: Repositories;
  db: SerialQueue;
  sessions: SessionRegistry;
  publisher: Pick<Publisher, "changedHere" | "checkStage" | "joined" | "welcome">;
  log: Logger;
  /** This console replica: instances it registers are its own (Instance.replicaId). */
  replicaId: string;
  helloTimeoutMs: number;
}

export interface AdmissionStats {
  waitingTokenChecks: number;
  waitingRegistrations: number;
  tokenCheckBatches: number;
  registrationBatches: number;
  largestRegistrationBatch: number;
}

export class Handshake {
  private stopped = false;
  /** Join token hash → the token, or null when unknown or revoked. */
  private readonly tokenChecks: Batcher<string, VerifiedJoinToken | null>;
  private readonly registrations: Batcher<HelloFrame, undefined>;
  private readonly tokenUses: Batcher<{ tokenId: string; by: string }, undefined>;

  constructor(private readonly deps: HandshakeDeps) {
    const { repos, db } = deps;
    this.tokenChecks = new Batcher(async (hashes) => {
      const valid = await db.run(() => repos.joinTokens.verifyMany(hashes));
      return hashes.map((h) => valid.get(h) ?? null);
    });
    this.registrations = new Batcher((hellos) => db.run(() => registerAll(repos, hellos, new Date(), deps.replicaId)));
    this.tokenUses = new Batcher(async (uses) => {
      // The last use of each token in the batch is the one its row keeps.
      const last = new Map(uses.map((u) => [u.tokenId, u.by]));
      const now = new Date();
      await db.run(async () => {
        for (const [id, by] of last) await repos.joinTokens.recordUse(id, now, by);
      });
      return uses.map(() => undefined);
    });
  }

  /** A new socket: it has `helloTimeoutMs` to send a valid hello. */
  accept(ws: WebSocket, req: IncomingMessage): AgentSession {
    const remote = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
    const session = this.deps.sessions.open(ws, remote);
    const { helloTimeoutMs, log } = this.deps;
    session.helloTimer = setTimeout(() => {
      if (session.phase !== "awaiting-hello") return;
      log.warn("agent rejected", { remote, reason: "no hello within timeout" });
      session.fail("hello-timeout", `no valid hello within ${helloTimeoutMs} ms`, CLOSE_HELLO_TIMEOUT);
    }, helloTimeoutMs);
    return session;
  }

  /**
   * A valid hello: checks the join token and registers the agent. Resolves true once the session is ready (frames
   * that arrived meanwhile wait in its backlog), false when it was refused or closed.
   */
  async admit(session: AgentSession, hello: HelloFrame): Promise<boolean> {
    const { log } = this.deps;
    session.phase = "registering";
    let token: VerifiedJoinToken | null;
    try {
      token = hello.token ? await this.tokenChecks.add(hashToken(hello.token)) : null;
    } catch (err) {
      log.error("join token check failed", { error: err as Error });
      session.fail("internal", "join token check failed", 1011);
      return false;
    }
    if (session.phase !== "registering") return false;
    if (!token) {
      session.phase = "awaiting-hello";
      log.warn("agent rejected", { remote: session.remote, reason: "invalid join token", service: hello.service, instanceId: hello.instanceId });
      session.fail("unauthorized", "invalid join token", CLOSE_BAD_TOKEN);
      return false;
    }
    if (!scopeCovers(token.scope, hello.service)) {
      // Refused before registration: no session state, no endpoint, and no certificate (csr frames need a ready session).
      session.phase = "awaiting-hello";
      const message = `join token "${token.name}" may register ${scopeText(token.scope)}, not ${hello.service}`;
      log.warn("agent rejected", {
        remote: session.remote,
        reason: "join token scope",
        token: token.name,
        service: hello.service,
        instanceId: hello.instanceId,
      });
      session.fail("token-scope", message, CLOSE_TOKEN_SCOPE);
      return false;
    }
    session.tokenId = token.id;
    this.tokenUses
      .add({ tokenId: token.id, by: `${hello.service}/${hello.instanceId}` })
      .catch((err) => log.warn("recording join token use failed", { error: err as Error }));
    return this.register(session, hello);
  }

  private async register(session: AgentSession, hello: HelloFrame): Promise<boolean> {
    const { log, sessions, publisher } = this.deps;
    session.clearHelloTimer();
    session.hello = hello;
    session.delivery = newDelivery(hello.configVersion);
    const previous = sessions.claim(session);
    if (previous) {
      log.info("agent connection replaced", { instanceId: hello.instanceId, service: hello.service });
      previous.fail("replaced", "a newer connection with the same instance id took over", CLOSE_REPLACED);
    }
    publisher.joined(hello);
    try {
      await this.registrations.add(hello);
    } catch (err) {
      log.error("agent registration failed", { instanceId: hello.instanceId, error: err as Error });
      session.fail("internal", "registration failed", 1011);
      return false;
    }
    if (session.phase !== "registering") return false;
    session.phase = "ready";
    log.info("agent connected", {
      instanceId: hello.instanceId,
      service: hello.service,
      version: hello.version,
      address: hello.inboundAddress,
      agentVersion: hello.agentVersion,
      configVersion: hello.configVersion,
      remote: session.remote,
    });
    publisher.welcome(session);
    publisher.changedHere([hello.service], "membership");
    return true;
  }

  /** How the batched admission went: what waits now, how many batches were written and the largest. */
  stats(): AdmissionStats {
    const t = this.tokenChecks;
    const r = this.registrations;
    return {
      waitingTokenChecks: t.waiting,
      waitingRegistrations: r.waiting,
      tokenCheckBatches: t.batches,
      registrationBatches: r.batches,
      largestRegistrationBatch: r.largest,
    };
  }

  /** A join token was revoked: agents that joined with it are disconnected (and refused when they come back). */
  revokeToken(tokenId: string): number {
    let n = 0;
    for (const s of this.deps.sessions) {
      if (s.tokenId !== tokenId || s.phase === "closed") continue;
      this.deps.log.warn("agent disconnected: join token revoked", { instanceId: s.hello?.instanceId, service: s.hello?.service });
      s.fail("token-revoked", "the join token this agent presented was revoked", CLOSE_REVOKED);
      n++;
    }
    return n;
  }

  /** The socket closed: the agent's endpoint is withdrawn unless a newer connection replaced it. */
  closed(session: AgentSession, code: number): void {
    const { repos, db, log, sessions, publisher } = this.deps;
    const wasReady = session.phase === "ready" || session.phase === "registering";
    session.phase = "closed";
    session.clearHelloTimer();
    sessions.remove(session);
    publisher.checkStage();
    const h = session.hello;
    if (!h || !wasReady) return;
    if (!sessions.release(session)) return; // replaced by a newer connection
    if (this.stopped) return;
    log.info("agent disconnected", { instanceId: h.instanceId, service: h.service, code });
    // Scoped to this replica: an agent that already failed over to another replica stays connected there.
    db.run(() => repos.instances.markDisconnected(h.instanceId, new Date(), this.deps.replicaId))
      .catch((err) => log.error("marking agent disconnected failed", { instanceId: h.instanceId, error: err as Error }))
      .finally(() => publisher.changedHere([h.service], "membership"));
  }

  /** The console is shutting down: closing sockets no longer withdraws endpoints (they get the restart grace). */
  stop(): void {
    this.stopped = true;
  }
}

/** Registers a batch of hellos together; when the batch conflicts, one by one, so that one bad hello fails alone. */
async function registerAll(repos: Repositories, hellos: HelloFrame[], now: Date, replicaId: string): Promise<(undefined | Error)[]> {
  try {
    await repos.instances.registerHellos(hellos, now, replicaId);
    return hellos.map(() => undefined);
  } catch {
    const out: (undefined | Error)[] = [];
    for (const h of hellos)
      out.push(
        await repos.instances.registerHello(h, now, replicaId).then(
          () => undefined,
          (err: unknown) => err as Error,
        ),
      );
    return out;
  }
}

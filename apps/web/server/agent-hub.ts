/**
 * `/ws/agents`: the control-plane side of the agent protocol.
 *
 * - The first frame must be a valid `hello` within 10 s carrying the join token (constant-time compare). A wrong token
 *   gets a fatal `error` frame and close 4001.
 * - Every frame is validated with `parseAgentFrame`; an invalid one gets a non-fatal `error` frame (the socket is
 *   closed only after `maxInvalidFrames`). Other agents are never affected.
 * - Topology changes (hello, disconnect, grace expiry) schedule a push round, debounced to coalesce bursts. A round cuts
 *   a new config version (persisted, monotonically increasing) when the topology changed, and sends each agent its
 *   snapshot with a fresh nonce. At most one un-acked snapshot per agent is in flight: a newer one waits and the
 *   newest is sent when the ack / nack arrives (or the in-flight one times out).
 * - Sync state per agent: SYNCED (acked the newest it was sent), STALE (sent, not acked / newer pending), NACKED.
 * - Heartbeat: ws ping every 5 s; a socket that misses 2 pongs is terminated.
 * - After a console restart, instances that were connected and seen within the grace stay endpoints until they
 *   reconnect or the grace passes, so the first agents back do not get a snapshot missing everyone else.
 * - Telemetry frames go straight into the in-memory TelemetryStore (synchronous, no I/O).
 *
 * All database work goes through repositories, serialized on one promise chain (SQLite has one writer anyway).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  type AckFrame,
  type CertificateFrame,
  type CsrFrame,
  type ErrorFrame,
  type HelloFrame,
  type MtlsMode,
  type NackFrame,
  parseAgentFrame,
} from "@trellis/protocol";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { hashToken, tokenPrefix } from "./join-token.ts";
import type { Logger } from "./log.ts";
import type { EndpointRow, Repositories, SyncState, SyncStateRow } from "./repositories/index.ts";
import type { TelemetryPolicy } from "./repositories/telemetry-policy.ts";
import type { CertificateAuthority } from "./security/ca.ts";
import type { DenialStore } from "./security/denials.ts";
import { buildTopology, snapshotSerializer, type TopologyService, topologyKey } from "./snapshot-builder.ts";
import type { TelemetryStore } from "./telemetry-store.ts";

export const CLOSE_BAD_TOKEN = 4001;
export const CLOSE_PROTOCOL = 4002;
export const CLOSE_HELLO_TIMEOUT = 4008;
export const CLOSE_REPLACED = 4009;
export const CLOSE_REVOKED = 4003;

export interface AgentHubOptions {
  helloTimeoutMs: number;
  heartbeatMs: number;
  debounceMs: number;
  maxInvalidFrames: number;
  restartGraceMs: number;
  /** An un-acked snapshot older than this no longer blocks sending a newer one. */
  ackTimeoutMs: number;
  touchIntervalMs: number;
  maxPayloadBytes: number;
  /** How long a STRICT <-> DISABLE change waits in PERMISSIVE for every agent to ack before it completes. */
  mtlsStageTimeoutMs: number;
  /** How often changed sync states are written to the database. */
  syncFlushMs: number;
}

export const defaultAgentHubOptions: AgentHubOptions = {
  helloTimeoutMs: 10_000,
  heartbeatMs: 5_000,
  debounceMs: 30,
  maxInvalidFrames: 20,
  restartGraceMs: 30_000,
  ackTimeoutMs: 15_000,
  touchIntervalMs: 5_000,
  maxPayloadBytes: 8 * 1024 * 1024,
  mtlsStageTimeoutMs: 5_000,
  syncFlushMs: 200,
};

type Phase = "awaiting-hello" | "registering" | "ready" | "closed";

interface InFlight {
  version: number;
  nonce: string;
  sentAt: number;
}

export interface AgentSessionInfo {
  sessionId: number;
  instanceId: string;
  service: string;
  version: string;
  remote: string;
  connectedAt: string;
  syncState: SyncState;
  sentVersion: number;
  ackedVersion: number;
  inFlight: { version: number; sentAt: string } | null;
  pending: boolean;
  lastError: string | null;
  telemetryFrames: number;
  invalidFrames: number;
}

class AgentSession {
  phase: Phase = "awaiting-hello";
  hello: HelloFrame | null = null;
  invalidFrames = 0;
  missedPongs = 0;
  inFlight: InFlight | null = null;
  pending = false;
  sentVersion = 0;
  ackedVersion = 0;
  syncState: SyncState = "UNKNOWN";
  lastError: string | null = null;
  /** Version the last NACK was for (with lastError). */
  nackedVersion = 0;
  /** Acked since the sync state was last written. */
  ackedSinceWrite = false;
  telemetryFrames = 0;
  /** Id of the join token this agent presented. */
  tokenId: string | null = null;
  csrInFlight = false;
  certificatesIssued = 0;
  backlog: RawData[] = [];
  helloTimer: NodeJS.Timeout | null = null;
  readonly connectedAt = new Date();
  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly remote: string,
  ) {}
}

export interface AgentHubDeps {
  repos: Repositories;
  store: TelemetryStore;
  /** The bootstrap join token (TRELLIS_JOIN_TOKEN or <data>/join-token): stored (hashed) as the first token. */
  joinToken?: string;
  /** Issues agents' certificates from their CSRs; without it `csr` frames get an error. */
  ca?: CertificateAuthority;
  /** Where authorization denials from telemetry go. */
  denials?: DenialStore;
  /** Receives the spans of every telemetry frame (synchronous enqueue; the writes happen elsewhere). */
  spans?: { enqueue(spans: import("@trellis/protocol").Span[]): void };
  log: Logger;
  /** Called after each push round with the registry as it stands (the live graph keeps it). */
  onRegistryChange?: (services: Awaited<ReturnType<Repositories["services"]["summaries"]>>) => void;
  options?: Partial<AgentHubOptions>;
}

export class AgentHub {
  readonly options: AgentHubOptions;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<AgentSession>();
  private readonly byInstance = new Map<string, AgentSession>();
  private readonly grace = new Map<string, EndpointRow & { expiresAt: number }>();
  private nextSessionId = 1;
  private dbChain: Promise<unknown> = Promise.resolve();
  private roundChain: Promise<void> = Promise.resolve();
  private roundTimer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private touchTimer: NodeJS.Timeout | null = null;
  /**
   * The config version being pushed. `serialize` cuts each agent's snapshot JSON from the version's services array,
   * built and validated once on first use (see snapshotSerializer); "invalid" when that build failed validation.
   */
  private current: {
    version: number;
    topology: TopologyService[];
    key: string;
    telemetry: TelemetryPolicy | null;
    serialize: ((service: string) => string) | "invalid" | null;
  } | null = null;
  /** Agents whose sync state changed since the last write (see flushSyncStates). */
  private readonly syncDirty = new Set<string>();
  private syncTimer: NodeJS.Timeout | null = null;
  /** Callers of requestPush() waiting for the next round to have cut its version and sent the snapshots. */
  private roundWaiters: ((version: number) => void)[] = [];
  /** Tracing policy pushed in every snapshot (null = protocol defaults). A change cuts a new version. */
  private telemetryPolicy: TelemetryPolicy | null = null;
  /** Highest version any agent said it holds: the next version must exceed it. */
  private minVersion = 0;
  private shuttingDown = false;
  /** mTLS modes as last pushed (a STRICT <-> DISABLE change goes through PERMISSIVE first: callers switch, then the
   * destination enforces, so no call is refused mid-change). */
  private effectiveMtls = new Map<string, MtlsMode>();
  private stagedVersion = 0;
  private stageTimer: NodeJS.Timeout | null = null;
  rounds = 0;
  /** Snapshot builds: one per config version (each agent's snapshot is the version's shared JSON with its service). */
  snapshotBuilds = 0;

  constructor(private readonly deps: AgentHubDeps) {
    this.options = { ...defaultAgentHubOptions, ...deps.options };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.options.maxPayloadBytes });
    this.wss.on("connection", (ws: WebSocket, req: IncomingMessage) => this.onConnection(ws, req));
  }

  private get log(): Logger {
    return this.deps.log;
  }

  /** Runs database work one call at a time, in order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.dbChain.then(fn, fn);
    this.dbChain = run.catch(() => undefined);
    return run;
  }

  async start(): Promise<void> {
    const now = new Date();
    const bootstrap = this.deps.joinToken;
    if (bootstrap) await this.serial(() => this.deps.repos.joinTokens.ensure("bootstrap", hashToken(bootstrap), tokenPrefix(bootstrap), "system"));
    const recovered = await this.serial(() => this.deps.repos.instances.recoverAfterRestart(this.options.restartGraceMs, now));
    for (const row of recovered) this.grace.set(row.instanceId, { ...row, expiresAt: row.lastSeen.getTime() + this.options.restartGraceMs });
    if (recovered.length > 0)
      this.log.info("endpoints kept through restart grace", { count: recovered.length, graceMs: this.options.restartGraceMs });
    this.armGraceTimer();
    const version = await this.serial(() => this.deps.repos.meshState.currentVersion());
    this.minVersion = version;
    await this.runRound();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatMs);
    this.touchTimer = setInterval(() => this.touch(), this.options.touchIntervalMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  // ---------------------------------------------------------------- connection lifecycle

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
    const session = new AgentSession(this.nextSessionId++, ws, remote);
    this.sessions.add(session);
    session.helloTimer = setTimeout(() => {
      if (session.phase !== "awaiting-hello") return;
      this.log.warn("agent rejected", { remote, reason: "no hello within timeout" });
      this.fail(session, "hello-timeout", `no valid hello within ${this.options.helloTimeoutMs} ms`, CLOSE_HELLO_TIMEOUT);
    }, this.options.helloTimeoutMs);
    ws.on("pong", () => {
      session.missedPongs = 0;
    });
    ws.on("message", (data: RawData) => this.onMessage(session, data));
    ws.on("close", (code: number) => this.onClose(session, code));
    ws.on("error", (err: Error) => this.log.debug("agent socket error", { remote, error: err.message }));
  }

  private onMessage(session: AgentSession, data: RawData): void {
    if (session.phase === "closed") return;
    if (session.phase === "registering") {
      session.backlog.push(data);
      return;
    }
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const parsed = parseAgentFrame(raw);
    if (session.phase === "awaiting-hello") {
      if (!parsed.ok) {
        this.log.warn("agent rejected", { remote: session.remote, reason: "invalid first frame", error: parsed.error });
        this.fail(session, "invalid-frame", `first frame must be a valid hello: ${parsed.error}`, CLOSE_PROTOCOL);
        return;
      }
      if (parsed.frame.type !== "hello") {
        this.log.warn("agent rejected", { remote: session.remote, reason: "frame before hello", type: parsed.frame.type });
        this.fail(session, "hello-required", `first frame must be hello, got ${parsed.frame.type}`, CLOSE_PROTOCOL);
        return;
      }
      this.onHello(session, parsed.frame);
      return;
    }
    if (!parsed.ok) {
      this.invalidFrame(session, parsed.error);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case "telemetry":
        session.telemetryFrames++;
        this.deps.store.ingest(frame.window);
        if (frame.window.denials.length > 0) this.deps.denials?.ingest(frame.window.denials);
        if (frame.window.spans.length > 0) this.deps.spans?.enqueue(frame.window.spans);
        return;
      case "ack":
        this.onAck(session, frame);
        return;
      case "nack":
        this.onNack(session, frame);
        return;
      case "hello":
        this.sendError(session, { code: "already-registered", message: "hello already received on this connection", fatal: false });
        return;
      case "csr":
        this.onCsr(session, frame);
        return;
    }
  }

  private invalidFrame(session: AgentSession, error: string): void {
    session.invalidFrames++;
    const h = session.hello;
    this.log.warn("invalid agent frame", {
      instanceId: h?.instanceId,
      service: h?.service,
      error: error.slice(0, 500),
      count: session.invalidFrames,
    });
    if (session.invalidFrames >= this.options.maxInvalidFrames) {
      this.fail(session, "too-many-invalid-frames", `${session.invalidFrames} invalid frames`, CLOSE_PROTOCOL);
      return;
    }
    this.sendError(session, { code: "invalid-frame", message: error, fatal: false });
  }

  private onHello(session: AgentSession, hello: HelloFrame): void {
    // Frames that arrive while the token is checked wait in the backlog.
    session.phase = "registering";
    const hash = hashToken(hello.token);
    this.serial(() => (hello.token ? this.deps.repos.joinTokens.verify(hash, new Date()) : Promise.resolve(null))).then(
      (token) => {
        if (session.phase !== "registering") return;
        if (!token) {
          session.phase = "awaiting-hello";
          this.log.warn("agent rejected", {
            remote: session.remote,
            reason: "invalid join token",
            service: hello.service,
            instanceId: hello.instanceId,
          });
          this.fail(session, "unauthorized", "invalid join token", CLOSE_BAD_TOKEN);
          return;
        }
        session.tokenId = token.id;
        this.register(session, hello);
      },
      (err: unknown) => {
        this.log.error("join token check failed", { error: err as Error });
        this.fail(session, "internal", "join token check failed", 1011);
      },
    );
  }

  private register(session: AgentSession, hello: HelloFrame): void {
    if (session.helloTimer) clearTimeout(session.helloTimer);
    session.helloTimer = null;
    session.hello = hello;
    session.ackedVersion = hello.configVersion;
    const previous = this.byInstance.get(hello.instanceId);
    if (previous && previous !== session) {
      this.log.info("agent connection replaced", { instanceId: hello.instanceId, service: hello.service });
      this.fail(previous, "replaced", "a newer connection with the same instance id took over", CLOSE_REPLACED);
    }
    this.byInstance.set(hello.instanceId, session);
    this.grace.delete(hello.instanceId);
    if (hello.configVersion > this.minVersion) this.minVersion = hello.configVersion;
    this.serial(() => this.deps.repos.instances.registerHello(hello, new Date())).then(
      () => {
        if (session.phase !== "registering") return;
        session.phase = "ready";
        this.log.info("agent connected", {
          instanceId: hello.instanceId,
          service: hello.service,
          version: hello.version,
          address: hello.inboundAddress,
          agentVersion: hello.agentVersion,
          configVersion: hello.configVersion,
          remote: session.remote,
        });
        this.scheduleRound();
        const backlog = session.backlog;
        session.backlog = [];
        for (const data of backlog) this.onMessage(session, data);
      },
      (err: unknown) => {
        this.log.error("agent registration failed", { instanceId: hello.instanceId, error: err as Error });
        this.fail(session, "internal", "registration failed", 1011);
      },
    );
  }

  private onCsr(session: AgentSession, frame: CsrFrame): void {
    const h = session.hello!;
    const ca = this.deps.ca;
    if (!ca) {
      this.sendError(session, { code: "no-ca", message: "this console does not issue certificates", fatal: false });
      return;
    }
    if (session.csrInFlight) {
      this.sendError(session, { code: "csr-in-flight", message: "a certificate request is already being handled", fatal: false });
      return;
    }
    session.csrInFlight = true;
    ca.issue(h.service, frame.csr).then(
      (c) => {
        session.csrInFlight = false;
        session.certificatesIssued++;
        if (session.ws.readyState !== WebSocket.OPEN) return;
        const out: CertificateFrame = {
          type: "certificate",
          chain: c.chain,
          caBundle: c.caBundle,
          spiffeId: c.spiffeId,
          notBefore: c.notBefore.toISOString(),
          notAfter: c.notAfter.toISOString(),
        };
        session.ws.send(JSON.stringify(out));
        this.log.info("certificate issued", { instanceId: h.instanceId, spiffeId: c.spiffeId, serial: c.serial, notAfter: out.notAfter });
      },
      (err: unknown) => {
        session.csrInFlight = false;
        this.log.warn("certificate request refused", { instanceId: h.instanceId, error: (err as Error).message });
        this.sendError(session, { code: "bad-csr", message: `certificate request refused: ${(err as Error).message}`, fatal: false });
      },
    );
  }

  /** A join token was revoked: agents that joined with it are disconnected (and refused when they come back). */
  revokeToken(tokenId: string): number {
    let n = 0;
    for (const s of this.sessions) {
      if (s.tokenId !== tokenId || s.phase === "closed") continue;
      this.log.warn("agent disconnected: join token revoked", { instanceId: s.hello?.instanceId, service: s.hello?.service });
      this.fail(s, "token-revoked", "the join token this agent presented was revoked", CLOSE_REVOKED);
      n++;
    }
    return n;
  }

  /** mTLS modes as currently pushed (while a change is staged, PERMISSIVE). */
  effectiveMtlsMode(service: string): MtlsMode {
    return this.effectiveMtls.get(service) ?? "DISABLE";
  }

  private onAck(session: AgentSession, frame: AckFrame): void {
    const h = session.hello!;
    const inFlight = session.inFlight;
    if (!inFlight || inFlight.nonce !== frame.nonce || inFlight.version !== frame.version) {
      this.log.debug("stale ack ignored", { instanceId: h.instanceId, version: frame.version });
      return;
    }
    session.inFlight = null;
    session.ackedVersion = frame.version;
    session.lastError = null;
    session.syncState = session.pending ? "STALE" : "SYNCED";
    session.ackedSinceWrite = true;
    this.markSyncDirty(h.instanceId);
    if (session.pending) this.sendSnapshot(session);
    this.checkStage();
  }

  /** A staged mTLS change completes once every connected agent acked the staged version (or after the timeout). */
  private checkStage(): void {
    if (this.stagedVersion === 0) return;
    for (const s of this.sessions) if (s.phase === "ready" && s.ackedVersion < this.stagedVersion) return;
    this.finishStage();
  }

  private finishStage(): void {
    if (this.stageTimer) clearTimeout(this.stageTimer);
    this.stageTimer = null;
    this.stagedVersion = 0;
    this.scheduleRound();
  }

  private onNack(session: AgentSession, frame: NackFrame): void {
    const h = session.hello!;
    const inFlight = session.inFlight;
    if (!inFlight || inFlight.nonce !== frame.nonce || inFlight.version !== frame.version) {
      this.log.debug("stale nack ignored", { instanceId: h.instanceId, version: frame.version });
      return;
    }
    session.inFlight = null;
    session.syncState = "NACKED";
    session.lastError = frame.error;
    session.nackedVersion = frame.version;
    this.log.warn("snapshot nacked", { instanceId: h.instanceId, service: h.service, version: frame.version, error: frame.error.slice(0, 500) });
    this.markSyncDirty(h.instanceId);
    if (session.pending) this.sendSnapshot(session);
  }

  private onClose(session: AgentSession, code: number): void {
    const wasReady = session.phase === "ready" || session.phase === "registering";
    session.phase = "closed";
    if (session.helloTimer) clearTimeout(session.helloTimer);
    this.sessions.delete(session);
    this.checkStage();
    const h = session.hello;
    if (!h || !wasReady) return;
    if (this.byInstance.get(h.instanceId) !== session) return; // replaced by a newer connection
    this.byInstance.delete(h.instanceId);
    if (this.shuttingDown) return;
    this.log.info("agent disconnected", { instanceId: h.instanceId, service: h.service, code });
    this.serial(() => this.deps.repos.instances.markDisconnected(h.instanceId, new Date()))
      .catch((err) => this.log.error("marking agent disconnected failed", { instanceId: h.instanceId, error: err as Error }))
      .finally(() => this.scheduleRound());
  }

  private sendError(session: AgentSession, e: Omit<ErrorFrame, "type">): void {
    if (session.ws.readyState !== WebSocket.OPEN) return;
    const frame: ErrorFrame = { type: "error", ...e };
    session.ws.send(JSON.stringify(frame));
  }

  /** Fatal error frame, then close. */
  private fail(session: AgentSession, code: string, message: string, closeCode: number): void {
    this.sendError(session, { code, message, fatal: true });
    if (session.helloTimer) clearTimeout(session.helloTimer);
    if (session.ws.readyState === WebSocket.OPEN || session.ws.readyState === WebSocket.CONNECTING) {
      session.ws.close(closeCode, message.slice(0, 120));
      // A peer that never completes the close handshake is cut off.
      setTimeout(() => session.ws.terminate(), 2_000).unref();
    }
  }

  // ---------------------------------------------------------------- push

  /** Coalesces bursts of changes into one round. */
  scheduleRound(): void {
    if (this.roundTimer || this.shuttingDown) return;
    this.roundTimer = setTimeout(() => {
      this.roundTimer = null;
      // Waiters registered before this round reads the store: their change is in it.
      const waiters = this.roundWaiters.splice(0);
      this.roundChain = this.roundChain
        .then(() => this.runRound())
        .catch((err) => this.log.error("push round failed", { error: err as Error }))
        .finally(() => {
          for (const w of waiters) w(this.currentVersion);
        });
    }, this.options.debounceMs);
  }

  /**
   * A committed config change (policies): runs a push round after the short debounce and resolves with the config
   * version the change went out with (a new one whenever the change altered any snapshot).
   */
  requestPush(): Promise<number> {
    if (this.shuttingDown) return Promise.resolve(this.currentVersion);
    return new Promise((resolve) => {
      this.roundWaiters.push(resolve);
      this.scheduleRound();
    });
  }

  /** How far the agents connected now got with `version`: acked it (or newer), NACKed it, or not yet. */
  syncOf(version: number): { version: number; total: number; applied: number; nacked: number; pending: number; errors: string[] } {
    let total = 0;
    let applied = 0;
    let nacked = 0;
    const errors: string[] = [];
    for (const s of this.sessions) {
      if (s.phase !== "ready" || !s.hello) continue;
      total++;
      if (s.ackedVersion >= version) applied++;
      else if (s.syncState === "NACKED" && s.sentVersion >= version) {
        nacked++;
        if (s.lastError && errors.length < 5) errors.push(`${s.hello.instanceId}: ${s.lastError}`);
      }
    }
    return { version, total, applied, nacked, pending: total - applied - nacked, errors };
  }

  private async runRound(): Promise<void> {
    if (this.shuttingDown) return;
    const repos = this.deps.repos;
    const [services, connected, policies] = await this.serial(() =>
      Promise.all([repos.services.summaries(), repos.instances.connectedEndpoints(), repos.policies.all()]),
    );
    const now = Date.now();
    const endpoints: EndpointRow[] = [...connected];
    const live = new Set(connected.map((e) => e.instanceId));
    for (const [id, g] of this.grace) {
      if (g.expiresAt <= now) this.grace.delete(id);
      else if (!live.has(id)) endpoints.push(g);
    }
    const [desiredMtls, authz] = await this.serial(() => Promise.all([repos.security.mtlsModes(), repos.security.authzByService()]));
    const effective = new Map<string, MtlsMode>();
    let staging = false;
    for (const svc of services) {
      const want = desiredMtls.get(svc.name) ?? "DISABLE";
      const was = this.effectiveMtls.get(svc.name);
      if (was !== undefined && was !== want && was !== "PERMISSIVE" && want !== "PERMISSIVE") {
        effective.set(svc.name, "PERMISSIVE");
        staging = true;
      } else effective.set(svc.name, want);
    }
    for (const [name, mode] of desiredMtls) if (!effective.has(name)) effective.set(name, mode);
    this.effectiveMtls = effective;
    const topology = buildTopology(services, endpoints, policies, { mtls: effective, authz });
    const telemetry = this.telemetryPolicy;
    const key = topologyKey(topology) + (telemetry ? JSON.stringify(telemetry) : "");
    if (!this.current || this.current.key !== key || this.minVersion >= this.current.version) {
      const floor = Math.max(this.minVersion, this.current?.version ?? 0);
      const version = await this.serial(() => repos.meshState.nextVersion(floor));
      this.current = { version, topology, key, telemetry, serialize: null };
      this.rounds++;
      this.log.info("config version cut", { version, services: topology.length, endpoints: endpoints.length });
    }
    this.deps.onRegistryChange?.(services);
    for (const session of this.sessions) {
      if (session.phase === "ready" && session.sentVersion < this.current.version) this.sendSnapshot(session);
    }
    if (staging) {
      this.log.info("mTLS change staged through PERMISSIVE", { version: this.current.version });
      this.stagedVersion = this.current.version;
      if (this.stageTimer) clearTimeout(this.stageTimer);
      this.stageTimer = setTimeout(() => {
        this.stageTimer = null;
        if (this.stagedVersion !== 0) this.finishStage();
      }, this.options.mtlsStageTimeoutMs);
      this.checkStage();
    }
  }

  private sendSnapshot(session: AgentSession): void {
    const current = this.current;
    const h = session.hello;
    if (!current || !h || session.phase !== "ready" || session.ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (session.inFlight && now - session.inFlight.sentAt < this.options.ackTimeoutMs) {
      session.pending = true;
      if (session.syncState === "SYNCED") session.syncState = "STALE";
      return;
    }
    const json = this.snapshotJson(current, h.service);
    if (json === null) return;
    const nonce = randomBytes(12).toString("base64url");
    // A SnapshotFrame around the cached snapshot JSON (the nonce is base64url: nothing to escape).
    session.ws.send(`{"type":"snapshot","version":${current.version},"nonce":"${nonce}","snapshot":${json}}`);
    session.inFlight = { version: current.version, nonce, sentAt: now };
    session.pending = false;
    session.sentVersion = current.version;
    session.syncState = "STALE";
    this.log.debug("snapshot sent", { instanceId: h.instanceId, version: current.version });
    this.markSyncDirty(h.instanceId);
  }

  /** The snapshot of `service` for the current version, as JSON. Null if the version failed validation. */
  private snapshotJson(current: NonNullable<AgentHub["current"]>, service: string): string | null {
    if (current.serialize === "invalid") return null;
    try {
      if (current.serialize === null) {
        this.snapshotBuilds++;
        current.serialize = snapshotSerializer({
          version: current.version,
          topology: current.topology,
          issuedAt: new Date(),
          telemetry: current.telemetry ?? undefined,
        });
      }
      return current.serialize(service);
    } catch (err) {
      this.log.error("snapshot failed validation; not sent", { service, version: current.version, error: err as Error });
      if (current.serialize === null) current.serialize = "invalid";
      return null;
    }
  }

  /** Sync state is live in memory; the database gets it a few times a second, in one transaction per write. */
  private markSyncDirty(instanceId: string): void {
    this.syncDirty.add(instanceId);
    if (this.syncTimer || this.shuttingDown) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.flushSyncStates().catch((err) => this.log.error("recording sync states failed", { error: err as Error }));
    }, this.options.syncFlushMs);
  }

  private flushSyncStates(): Promise<void> {
    const rows: SyncStateRow[] = [];
    for (const instanceId of this.syncDirty) {
      const s = this.byInstance.get(instanceId);
      if (!s) continue; // disconnected: markDisconnected records it
      rows.push({
        instanceId,
        sentVersion: s.sentVersion,
        ackedVersion: s.ackedVersion,
        syncState: s.syncState,
        // A NACK's reason stays visible until the agent acks a newer version (onAck clears lastError).
        syncError: s.lastError ? `v${s.nackedVersion}: ${s.lastError}`.slice(0, 4096) : null,
        acked: s.ackedSinceWrite,
      });
      s.ackedSinceWrite = false;
    }
    this.syncDirty.clear();
    return this.serial(() => this.deps.repos.instances.recordSyncStates(rows, new Date()));
  }

  /** Sets the tracing policy every snapshot carries and pushes it to every agent (a new config version). */
  setTelemetryPolicy(policy: TelemetryPolicy): void {
    this.telemetryPolicy = { ...policy, slowThresholdMsByService: { ...policy.slowThresholdMsByService } };
    this.scheduleRound();
  }

  // ---------------------------------------------------------------- timers

  private armGraceTimer(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    if (this.grace.size === 0) return;
    const soonest = Math.min(...[...this.grace.values()].map((g) => g.expiresAt));
    this.graceTimer = setTimeout(
      () => {
        const now = Date.now();
        let expired = 0;
        for (const [id, g] of this.grace) {
          if (g.expiresAt <= now) {
            this.grace.delete(id);
            expired++;
          }
        }
        if (expired > 0) {
          this.log.info("restart grace expired", { instances: expired });
          this.scheduleRound();
        }
        this.armGraceTimer();
      },
      Math.max(0, soonest - Date.now()) + 10,
    );
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const session of this.sessions) {
      if (session.ws.readyState !== WebSocket.OPEN) continue;
      if (session.missedPongs >= 2) {
        this.log.warn("agent heartbeat lost; terminating", { instanceId: session.hello?.instanceId, remote: session.remote });
        session.ws.terminate();
        continue;
      }
      session.missedPongs++;
      session.ws.ping();
      // An in-flight snapshot that timed out no longer holds back the newest one.
      if (session.pending && session.inFlight && now - session.inFlight.sentAt >= this.options.ackTimeoutMs) this.sendSnapshot(session);
    }
  }

  private touch(): void {
    const ids = [...this.byInstance.keys()];
    if (ids.length === 0) return;
    this.serial(() => this.deps.repos.instances.touch(ids, new Date())).catch((err) =>
      this.log.error("refreshing lastSeen failed", { error: err as Error }),
    );
  }

  // ---------------------------------------------------------------- queries & shutdown

  get currentVersion(): number {
    return this.current?.version ?? 0;
  }

  get connectedCount(): number {
    return this.byInstance.size;
  }

  sessionsInfo(): AgentSessionInfo[] {
    const out: AgentSessionInfo[] = [];
    for (const s of this.sessions) {
      if (!s.hello || s.phase === "closed") continue;
      out.push({
        sessionId: s.id,
        instanceId: s.hello.instanceId,
        service: s.hello.service,
        version: s.hello.version,
        remote: s.remote,
        connectedAt: s.connectedAt.toISOString(),
        syncState: s.syncState,
        sentVersion: s.sentVersion,
        ackedVersion: s.ackedVersion,
        inFlight: s.inFlight ? { version: s.inFlight.version, sentAt: new Date(s.inFlight.sentAt).toISOString() } : null,
        pending: s.pending,
        lastError: s.lastError,
        telemetryFrames: s.telemetryFrames,
        invalidFrames: s.invalidFrames,
      });
    }
    return out;
  }

  /** Closes every agent socket. Instances keep `connected` so their endpoints get the restart grace next time. */
  async close(): Promise<void> {
    this.shuttingDown = true;
    for (const w of this.roundWaiters.splice(0)) w(this.currentVersion);
    if (this.syncTimer) clearTimeout(this.syncTimer);
    await this.flushSyncStates().catch(() => undefined);
    for (const t of [this.roundTimer, this.graceTimer, this.stageTimer]) if (t) clearTimeout(t);
    for (const t of [this.heartbeatTimer, this.touchTimer]) if (t) clearInterval(t);
    await this.serial(() => this.deps.repos.instances.stampConnected(new Date())).catch(() => undefined);
    for (const s of this.sessions) {
      if (s.ws.readyState === WebSocket.OPEN) s.ws.close(1001, "console shutting down");
      else s.ws.terminate();
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const s of this.sessions) s.ws.terminate();
        resolve();
      }, 500);
      this.wss.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

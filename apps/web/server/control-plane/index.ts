/**
 * `/ws/agents`: the control-plane side of the agent protocol (DESIGN.md, "Control protocol"), wired from its parts:
 *
 *   handshake.ts       hello within the timeout, join token, registration, replace / revoke, close
 *   dispatch.ts        frame validation and routing, the invalid-frame limit
 *   certificates.ts    csr → certificate
 *   trust.ts           the trust bundle to every agent (CA rotation), their trust-status reports
 *   publisher.ts       config versions cut from the database, debounced push rounds, mTLS staging, restart grace
 *   sender.ts          each agent's snapshot through its delivery state machine (delivery.ts), acks and nacks
 *   sync-recorder.ts   batched writes of sync states
 *   heartbeat.ts       pings, dead-socket cut-off, lastSeen refresh
 *
 * All database work goes through the repositories, serialized on one queue (SQLite has one writer anyway).
 * Several replicas on one PostgreSQL (`replica`): instances are written as this replica's, and its changes are
 * announced to the others (server/replicas/).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { MtlsMode, Span, TelemetryWindow } from "@trellis/protocol";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { hashToken, tokenPrefix } from "../join-token.ts";
import type { Logger } from "../log.ts";
import type { Repositories } from "../repositories/index.ts";
import type { DenialStore } from "../security/denials.ts";
import type { AgentTrust } from "../security/rotation.ts";
import { CertificateIssuer, type IssuerSource } from "./certificates.ts";
import { syncOf, type VersionSync } from "./delivery.ts";
import { FrameDispatcher } from "./dispatch.ts";
import type { EndpointGate } from "./endpoint-gate.ts";
import { type AdmissionStats, Handshake } from "./handshake.ts";
import { Heartbeat } from "./heartbeat.ts";
import { type ControlPlaneMetrics, NO_METRICS } from "./metrics.ts";
import { type ControlPlaneOptions, defaultControlPlaneOptions } from "./options.ts";
import { type ConfigPublisher, Publisher, type RegistryListener } from "./publisher.ts";
import { SessionRegistry } from "./registry.ts";
import { RestartGrace } from "./restart-grace.ts";
import { SerialQueue } from "./serial.ts";
import type { AgentSessionInfo } from "./session.ts";
import { SyncRecorder } from "./sync-recorder.ts";
import { TrustPush, type TrustSource } from "./trust.ts";

export type { VersionSync } from "./delivery.ts";
export type { AdmissionStats } from "./handshake.ts";
export * from "./options.ts";
export type { ConfigPublisher } from "./publisher.ts";
export type { AgentSessionInfo } from "./session.ts";

export interface ControlPlaneDeps {
  repos: Repositories;
  /** Where agents' telemetry windows go (the store, or the replicas' share in front of it): synchronous, no I/O. */
  store: { ingest(window: TelemetryWindow): void };
  /** The bootstrap join token (TRELLIS_JOIN_TOKEN or <data>/join-token): stored (hashed) as the first token. */
  joinToken?: string;
  /** The mesh's trust (MeshTrust): issues agents' certificates and gives the bundle they trust; without it `csr`
   * frames get an error and no bundle is pushed. */
  trust?: IssuerSource & TrustSource;
  /** Where authorization denials from telemetry go. */
  denials?: DenialStore;
  /** Receives the spans of every telemetry frame (synchronous enqueue; the writes happen elsewhere). */
  spans?: { enqueue(spans: Span[]): void };
  log: Logger;
  /** Called after each push round with the registry as it stands (the live graph keeps it). */
  onRegistryChange?: RegistryListener;
  /** Which connected agents are served as endpoints (default all); a change of its answers schedules a round. */
  endpointGate?: EndpointGate;
  /** Push rounds, ACK latency, NACKs and telemetry frames for the console's /metrics. */
  metrics?: ControlPlaneMetrics;
  /** This console among the replicas sharing the database; default: the only console. */
  replica?: ReplicaLink;
  options?: Partial<ControlPlaneOptions>;
}

/** What the control plane needs to know about the other console replicas. */
export interface ReplicaLink {
  id: string;
  /** The other replicas alive now: the agents they hold are theirs, not orphans of a dead console. */
  liveOthers(): Promise<string[]>;
  /** Tells the other replicas that the config changed (they run a round for their own agents). */
  announce(change: { services: string[]; version: number }): void;
}

const ONLY_CONSOLE: ReplicaLink = { id: "local", liveOthers: async () => [], announce: () => undefined };

export class ControlPlane implements ConfigPublisher {
  readonly options: ControlPlaneOptions;
  readonly replica: ReplicaLink;
  readonly publisher: Publisher;
  private readonly wss: WebSocketServer;
  private readonly db = new SerialQueue();
  private readonly sessions = new SessionRegistry();
  private readonly grace: RestartGrace;
  private readonly recorder: SyncRecorder;
  private readonly handshake: Handshake;
  private readonly dispatcher: FrameDispatcher;
  private readonly heartbeat: Heartbeat;
  private readonly trustPush: TrustPush;
  private shuttingDown = false;

  constructor(private readonly deps: ControlPlaneDeps) {
    const o = { ...defaultControlPlaneOptions, ...deps.options };
    this.options = o;
    const { repos, log } = deps;
    const { db, sessions } = this;
    const metrics = deps.metrics ?? NO_METRICS;
    const replica = deps.replica ?? ONLY_CONSOLE;
    this.replica = replica;
    this.recorder = new SyncRecorder({ repos, db, sessions, log, flushMs: o.syncFlushMs, replicaId: replica.id });
    this.grace = new RestartGrace(o.restartGraceMs, (expired) => {
      log.info("restart grace expired", { instances: expired });
      this.publisher.scheduleRound("membership");
    });
    this.publisher = new Publisher({
      repos,
      db,
      sessions,
      grace: this.grace,
      log,
      timing: { debounceMs: o.debounceMs, membershipQuietMs: o.membershipQuietMs, membershipMaxMs: o.membershipMaxMs },
      ackTimeoutMs: o.ackTimeoutMs,
      mtlsStageTimeoutMs: o.mtlsStageTimeoutMs,
      onSyncChange: (instanceId) => this.recorder.markDirty(instanceId),
      onRegistryChange: deps.onRegistryChange,
      gate: deps.endpointGate,
      metrics,
      announce: (change) => replica.announce(change),
    });
    deps.endpointGate?.onChange(() => this.publisher.scheduleRound("membership"));
    this.trustPush = new TrustPush(deps.trust, sessions, log);
    this.handshake = new Handshake({ repos, db, sessions, publisher: this.publisher, log, helloTimeoutMs: o.helloTimeoutMs, replicaId: replica.id });
    this.dispatcher = new FrameDispatcher({
      handshake: this.handshake,
      sender: this.publisher.sender,
      certificates: new CertificateIssuer(deps.trust, log),
      trust: this.trustPush,
      store: deps.store,
      denials: deps.denials,
      spans: deps.spans,
      log,
      maxInvalidFrames: o.maxInvalidFrames,
      metrics,
    });
    this.heartbeat = new Heartbeat({
      repos,
      db,
      sessions,
      sender: this.publisher.sender,
      log,
      heartbeatMs: o.heartbeatMs,
      touchIntervalMs: o.touchIntervalMs,
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayloadBytes });
    this.wss.on("connection", (ws: WebSocket, req: IncomingMessage) => this.onConnection(ws, req));
  }

  /** Stores the bootstrap token, keeps the endpoints of the restart grace, runs the first round, starts the beat. */
  async start(): Promise<void> {
    const { repos, joinToken: bootstrap, log } = this.deps;
    const now = new Date();
    if (bootstrap) await this.db.run(() => repos.joinTokens.ensure("bootstrap", hashToken(bootstrap), tokenPrefix(bootstrap), "system"));
    const graceMs = this.options.restartGraceMs;
    const others = await this.replica.liveOthers();
    const recovered = await this.db.run(() => repos.instances.recoverAfterRestart(graceMs, now, others));
    if (recovered.length > 0) log.info("endpoints kept through restart grace", { count: recovered.length, graceMs });
    this.grace.keep(recovered);
    await this.publisher.start();
    this.heartbeat.start();
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const session = this.handshake.accept(ws, req);
    ws.on("pong", () => {
      session.missedPongs = 0;
    });
    ws.on("message", (data: RawData) => this.dispatcher.onMessage(session, data));
    ws.on("close", (code: number) => this.handshake.closed(session, code));
    ws.on("error", (err: Error) => this.deps.log.debug("agent socket error", { remote: session.remote, error: err.message }));
  }

  // ---------------------------------------------------------------- what the console asks

  publish(services?: string[]): Promise<number> {
    return this.publisher.publish(services);
  }

  /** Another replica committed a change (or its agents came or went): a round for this replica's agents. */
  changedElsewhere(): void {
    this.publisher.scheduleRound();
  }

  get currentVersion(): number {
    return this.publisher.currentVersion;
  }

  syncOf(version: number): VersionSync {
    return this.publisher.syncOf(version);
  }

  /** How far every connected agent got with `version`: this replica's live, the other replicas' as they wrote it. */
  async meshSyncOf(version: number): Promise<VersionSync> {
    const own = [...this.sessions.ready()].map((s) => ({ instanceId: s.hello!.instanceId, delivery: s.delivery }));
    const elsewhere = await this.deps.repos.instances.syncHeldElsewhere(this.replica.id);
    const mine = new Set(own.map((a) => a.instanceId));
    return syncOf(version, [...own, ...elsewhere.filter((r) => !mine.has(r.instanceId)).map((r) => ({ instanceId: r.instanceId, delivery: r }))]);
  }

  effectiveMtlsMode(service: string): MtlsMode {
    return this.publisher.effectiveMtlsMode(service);
  }

  revokeToken(tokenId: string): number {
    return this.handshake.revokeToken(tokenId);
  }

  /** What every registered agent reported about its trust (CA rotation progress). */
  agentsTrust(): AgentTrust[] {
    return this.trustPush.agents();
  }

  get connectedCount(): number {
    return this.sessions.connectedCount;
  }

  sessionsInfo(): AgentSessionInfo[] {
    return this.sessions.info();
  }

  /** Batched admission of hellos (token checks, registrations): what waits, batches written, the largest. */
  admissionStats(): AdmissionStats {
    return this.handshake.stats();
  }

  get rounds(): number {
    return this.publisher.rounds;
  }

  get snapshotBuilds(): number {
    return this.publisher.snapshotBuilds;
  }

  /** Closes every agent socket. Instances keep `connected` so their endpoints get the restart grace next time. */
  async close(): Promise<void> {
    this.shuttingDown = true;
    this.publisher.stop();
    this.handshake.stop();
    await this.recorder.close().catch(() => undefined);
    this.publisher.clearTimers();
    this.grace.stop();
    this.heartbeat.stop();
    await this.db.run(() => this.deps.repos.instances.stampConnected(new Date(), this.replica.id)).catch(() => undefined);
    for (const s of this.sessions) {
      if (s.open) s.ws.close(1001, "console shutting down");
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

/**
 * The publisher: cuts config versions from the database's mesh state and pushes them in rounds.
 *
 * Changes (a committed config change, an agent joining or leaving, a restart grace expiring) schedule a round,
 * debounced to coalesce bursts (round-timing.ts: membership changes wait longer than config changes). A round reads the mesh state (services, live endpoints plus those kept through the
 * restart grace, policies, mTLS and authorization, the telemetry sampling policy), cuts a new version (persisted,
 * monotonically increasing) when any snapshot changed, and hands each agent behind it to the sender. A STRICT <->
 * DISABLE change is staged through PERMISSIVE (see mtls-staging.ts) until every agent acked or the stage times out.
 *
 * Replicas: versions come from the shared MeshState row, keyed by a hash of the topology, so replicas that read the same
 * state push the same version. A round caused here (a committed change, an agent of this replica joining or leaving)
 * is announced to the other replicas once it cut its version; an announcement from another replica only schedules a
 * round here (never announced again: no echo).
 */
import { createHash } from "node:crypto";
import type { HelloFrame, MtlsMode } from "@trellis/protocol";
import type { Logger } from "../log.ts";
import type { Repositories } from "../repositories/index.ts";
import { buildTopology, topologyKey } from "../snapshot-builder.ts";
import { ConfigVersion } from "./config-version.ts";
import { syncOf, type VersionSync } from "./delivery.ts";
import { type EndpointGate, gateEndpoints } from "./endpoint-gate.ts";
import type { ControlPlaneMetrics } from "./metrics.ts";
import { planMtls, stageComplete } from "./mtls-staging.ts";
import type { SessionRegistry } from "./registry.ts";
import type { RestartGrace } from "./restart-grace.ts";
import { type PendingRound, type RoundCause, type RoundTiming, scheduleAt } from "./round-timing.ts";
import { SnapshotSender } from "./sender.ts";
import type { SerialQueue } from "./serial.ts";
import type { AgentSession } from "./session.ts";

/** What the rest of the console needs from the publisher: push the database's state, and how far it got. */
export interface ConfigPublisher {
  /**
   * Pushes the current database state as a config version after the short debounce; resolves with the version it
   * went out with (a new one whenever the change altered any snapshot). `services`: what the change touched (none:
   * mesh-wide), for the announcement to the other replicas.
   */
  publish(services?: string[]): Promise<number>;
  /** The config version being pushed (0 before the first round). */
  readonly currentVersion: number;
  /** How far the agents connected now got with `version`. */
  syncOf(version: number): VersionSync;
}

export type RegistryListener = (services: Awaited<ReturnType<Repositories["services"]["summaries"]>>) => void;

export interface PublisherDeps {
  repos: Repositories;
  db: SerialQueue;
  sessions: SessionRegistry;
  grace: RestartGrace;
  log: Logger;
  /** Round timing: the config-change debounce and the membership quiet period / maximum. */
  timing: RoundTiming;
  ackTimeoutMs: number;
  mtlsStageTimeoutMs: number;
  /** The agent's sync state changed (the recorder writes it). */
  onSyncChange: (instanceId: string) => void;
  /** Called after each round with the registry as it stands (the live graph keeps it). */
  onRegistryChange?: RegistryListener;
  /** Which agents may be served as endpoints (Kubernetes: those whose pod is a ready EndpointSlice endpoint). */
  gate?: EndpointGate;
  /** Counts push rounds (and, through the sender, ACK latency and NACKs) for /metrics. */
  metrics?: ControlPlaneMetrics;
  /** Tells the other replicas that the config changed (services touched, version cut); absent: one console. */
  announce?: (change: { services: string[]; version: number }) => void;
}

export class Publisher implements ConfigPublisher {
  readonly sender: SnapshotSender;
  private cut: ConfigVersion | null = null;
  rounds = 0;
  /** Snapshot builds: one per config version (each agent's snapshot is the version's shared JSON with its service). */
  snapshotBuilds = 0;
  private roundChain: Promise<void> = Promise.resolve();
  private roundTimer: NodeJS.Timeout | null = null;
  private pendingRound: PendingRound | null = null;
  /** Callers of publish() waiting for the next round to have cut its version and sent the snapshots. */
  private waiters: ((version: number) => void)[] = [];
  /** Highest version any agent said it holds: the next version must exceed it. */
  private minVersion = 0;
  private stopped = false;
  /** mTLS modes as last pushed (PERMISSIVE while a change is staged). */
  private effectiveMtls = new Map<string, MtlsMode>();
  private stagedVersion = 0;
  private stageTimer: NodeJS.Timeout | null = null;
  /** Services changed here since the last round (null: nothing to announce to the other replicas). */
  private announcing: Set<string> | null = null;

  constructor(private readonly deps: PublisherDeps) {
    this.sender = new SnapshotSender({
      versions: this,
      ackTimeoutMs: deps.ackTimeoutMs,
      log: deps.log,
      onSyncChange: deps.onSyncChange,
      onAck: () => this.checkStage(),
      metrics: deps.metrics,
    });
  }

  /** The config version being pushed (null before the first round). */
  get current(): ConfigVersion | null {
    return this.cut;
  }

  get currentVersion(): number {
    return this.cut?.version ?? 0;
  }

  /** The first round, after the highest version ever cut was read from the database. */
  async start(): Promise<void> {
    this.minVersion = await this.deps.db.run(() => this.deps.repos.meshState.currentVersion());
    await this.runRound();
  }

  publish(services: string[] = []): Promise<number> {
    if (this.stopped) return Promise.resolve(this.currentVersion);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.changedHere(services);
    });
  }

  /** Something this replica owns changed (a committed change, one of its agents joined or left): round + announce. */
  changedHere(services: string[], cause: RoundCause = "change"): void {
    this.announcing ??= new Set();
    for (const s of services) this.announcing.add(s);
    this.scheduleRound(cause);
  }

  /** Coalesces bursts of changes into one round (config changes: the debounce; membership: see round-timing.ts). */
  scheduleRound(cause: RoundCause = "change"): void {
    if (this.stopped) return;
    const now = Date.now();
    const next = scheduleAt(this.pendingRound, cause, now, this.deps.timing);
    if (this.roundTimer && next.due === this.pendingRound?.due) {
      this.pendingRound = next;
      return;
    }
    if (this.roundTimer) clearTimeout(this.roundTimer);
    this.pendingRound = next;
    this.roundTimer = setTimeout(
      () => {
        this.roundTimer = null;
        this.pendingRound = null;
        // Waiters registered before this round reads the store: their change is in it.
        const waiters = this.waiters.splice(0);
        const announcing = this.announcing;
        this.announcing = null;
        this.roundChain = this.roundChain
          .then(() => this.runRound())
          .catch((err) => {
            // A failed round (database busy or away) is retried: agents waiting for their first snapshot must get it.
            this.deps.log.error("push round failed; retrying in 1 s", { error: err as Error });
            setTimeout(() => this.scheduleRound(), 1_000).unref();
          })
          .finally(() => {
            for (const w of waiters) w(this.currentVersion);
            if (announcing && this.cut) this.deps.announce?.({ services: [...announcing], version: this.cut.version });
          });
      },
      Math.max(0, next.due - now),
    );
  }

  /**
   * A newly registered agent gets the current version at once (the snapshot of a service the version does not know
   * yet is the shared one with the agent's own entry), unless it already holds as new a one: it need not wait for
   * the next round, which brings its peers' endpoints.
   */
  welcome(session: AgentSession): void {
    const current = this.cut;
    if (current && current.version > session.delivery.ackedVersion && session.delivery.sentVersion < current.version) this.sender.deliver(session);
  }

  /** An agent registered: it is an endpoint again (no longer kept by the grace), and versions must exceed its own. */
  joined(hello: HelloFrame): void {
    this.deps.grace.drop(hello.instanceId);
    if (hello.configVersion > this.minVersion) this.minVersion = hello.configVersion;
  }

  syncOf(version: number): VersionSync {
    return syncOf(
      version,
      [...this.deps.sessions.ready()].map((s) => ({ instanceId: s.hello!.instanceId, delivery: s.delivery })),
    );
  }

  /** mTLS mode as currently pushed (while a change is staged, PERMISSIVE). */
  effectiveMtlsMode(service: string): MtlsMode {
    return this.effectiveMtls.get(service) ?? "DISABLE";
  }

  /** A staged mTLS change completes once every connected agent acked the staged version (or after the timeout). */
  checkStage(): void {
    if (this.stagedVersion === 0) return;
    if (
      stageComplete(
        this.stagedVersion,
        [...this.deps.sessions.ready()].map((s) => s.delivery.ackedVersion),
      )
    )
      this.finishStage();
  }

  /** No more rounds; waiting publishers get the current version. */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiters.splice(0)) w(this.currentVersion);
  }

  clearTimers(): void {
    for (const t of [this.roundTimer, this.stageTimer]) if (t) clearTimeout(t);
  }

  private finishStage(): void {
    if (this.stageTimer) clearTimeout(this.stageTimer);
    this.stageTimer = null;
    this.stagedVersion = 0;
    this.scheduleRound("change");
  }

  private async runRound(): Promise<void> {
    if (this.stopped) return;
    const { repos, db, log } = this.deps;
    const [services, connected, policies, telemetry] = await db.run(() =>
      Promise.all([repos.services.summaries(), repos.instances.connectedEndpoints(), repos.policies.all(), repos.telemetryPolicy.get()]),
    );
    const endpoints = gateEndpoints(this.deps.grace.endpoints(connected, Date.now()), this.deps.gate);
    const [desiredMtls, meshDefault, authz] = await db.run(() =>
      Promise.all([repos.security.mtlsModes(), repos.security.meshDefault(), repos.security.authzByService()]),
    );
    const mtls = planMtls(
      services.map((s) => s.name),
      desiredMtls,
      this.effectiveMtls,
      meshDefault,
    );
    this.effectiveMtls = mtls.effective;
    const topology = buildTopology(services, endpoints, policies, { mtls: mtls.effective, authz });
    const key = topologyKey(topology) + JSON.stringify(telemetry);
    if (!this.cut || this.cut.key !== key || this.minVersion > this.cut.version) {
      const hash = createHash("sha256").update(key).digest("base64url");
      const { version, cut } = await db.run(() => repos.meshState.versionFor(hash, this.minVersion));
      this.cut = new ConfigVersion(version, topology, key, telemetry, () => this.snapshotBuilds++);
      this.rounds++;
      log.info(cut ? "config version cut" : "config version joined", { version, services: topology.length, endpoints: endpoints.length });
    }
    this.deps.onRegistryChange?.(services);
    this.deps.metrics?.pushRound();
    const current = this.cut;
    for (const session of this.deps.sessions.ready()) if (session.delivery.sentVersion < current.version) this.sender.deliver(session);
    if (mtls.staging) {
      log.info("mTLS change staged through PERMISSIVE", { version: current.version });
      this.stagedVersion = current.version;
      if (this.stageTimer) clearTimeout(this.stageTimer);
      this.stageTimer = setTimeout(() => {
        this.stageTimer = null;
        if (this.stagedVersion !== 0) this.finishStage();
      }, this.deps.mtlsStageTimeoutMs);
      this.checkStage();
    }
  }
}

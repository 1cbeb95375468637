/**
 * The console's services, wired in dependency order: database (migrated), repositories, sign-in, certificate
 * authority, telemetry and observability, the control plane (first push round done), config changes, the live graph hub,
 * and the tRPC handler over all of them.
 */
import type http from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { AuditLog } from "../audit/audit-log.ts";
import { clientAddressOf } from "../audit/request-actor.ts";
import { AuditRetention, auditRetentionFromEnv } from "../audit/retention.ts";
import { SignInGuard, signInGuardOptionsFromEnv } from "../audit/sign-in-guard.ts";
import { Canaries } from "../canary/canaries.ts";
import { CanaryRunner } from "../canary/runner.ts";
import { ConfigChanges } from "../changes/index.ts";
import type { ConsoleConfig } from "../config.ts";
import { ControlPlane } from "../control-plane/index.ts";
import { openDb } from "../db.ts";
import { LiveHub } from "../live-hub.ts";
import { LiveView } from "../live-view.ts";
import type { Logger } from "../log.ts";
import { ConsoleMetrics } from "../metrics/console-metrics.ts";
import { applyMigrations } from "../migrate.ts";
import { startObservability } from "../observability/index.ts";
import { type Replication, startReplication } from "../replicas/index.ts";
import { createRepositories } from "../repositories/index.ts";
import { appRouter } from "../root.ts";
import { Auth } from "../security/auth.ts";
import { DenialStore } from "../security/denials.ts";
import { MeshTrust } from "../security/mesh-trust.ts";
import { TelemetryStore } from "../telemetry-store.ts";
import type { Services } from "../trpc.ts";
import { userOf } from "./gate.ts";

export interface Backend {
  services: Services;
  controlPlane: ControlPlane;
  liveHub: LiveHub;
  /** The console's own Prometheus metrics (/metrics). */
  metrics: ConsoleMetrics;
  /** This console among the replicas sharing the database (one on SQLite). */
  replication: Replication;
  /** tRPC over the services; the gate has put the signed-in user on the request. */
  trpc: http.RequestListener;
  /** Agent and browser sockets first, then observability (bounded): the shutdown's first two steps. */
  close(): Promise<void>;
}

export async function buildBackend(cfg: ConsoleConfig, joinToken: string, log: Logger, url: string | null = null): Promise<Backend> {
  await applyMigrations({ dataDir: cfg.dataDir, databaseUrl: cfg.databaseUrl, log });
  const metrics = new ConsoleMetrics(cfg.replicaId);
  const repos = createRepositories(await openDb(cfg.databaseUrl, { onOperation: (ms) => metrics.dbOperation(ms) }));
  const pruned = await repos.instances.pruneDisconnected(7 * 24 * 3600 * 1000, new Date());
  if (pruned > 0) log.info("forgot long-gone instances", { count: pruned });
  const store = new TelemetryStore();
  const replication = await startReplication({ databaseUrl: cfg.databaseUrl, repos, store, log, url, id: cfg.replicaId });
  const exclusive = replication.leases.runExclusively;
  const audit = new AuditLog(repos, log.child({ component: "audit" }));
  const auth = new Auth(repos, { audit, guard: new SignInGuard(signInGuardOptionsFromEnv()) });
  const auditRetention = new AuditRetention(repos, auditRetentionFromEnv(), log.child({ component: "audit" }), Date.now, exclusive);
  await auditRetention.start();
  const admin = await auth.ensureFirstAdmin(cfg.adminPassword);
  if (admin.created) {
    log.info("first admin created", {
      username: "admin",
      password: admin.generated ? "generated (printed once, not logged)" : "from TRELLIS_ADMIN_PASSWORD",
    });
    // Printed once, on stdout, outside the JSON log (scripts/start.mts shows it to whoever ran npm start).
    if (admin.generated) process.stdout.write(`TRELLIS FIRST ADMIN: username admin password ${admin.generated}\n`);
  }
  await repos.users.pruneSessions(new Date());
  const { trust, created } = await MeshTrust.open(cfg.dataDir, cfg.trustDomain, cfg.certTtlSeconds, log.child({ component: "ca" }));
  log.info(created ? "certificate authority created" : "certificate authority loaded", {
    dir: `${cfg.dataDir}/ca`,
    trustDomain: cfg.trustDomain,
    certTtlSeconds: cfg.certTtlSeconds,
    rotation: trust.state.rotation?.phase ?? null,
  });
  const denials = new DenialStore();
  const live = new LiveView(store);
  live.setRegistry(await repos.services.summaries());
  const obs = await startObservability(repos, store, log, process.env, exclusive);
  // Loaded only on Kubernetes: the client library is large and the default console never needs it.
  const endpointGate =
    cfg.discovery.mode === "kubernetes"
      ? await (await import("./kubernetes-gate.ts")).startKubernetesGate(log.child({ component: "k8s-discovery" }), cfg.discovery.namespace)
      : undefined;
  const controlPlane = new ControlPlane({
    repos,
    store: replication.telemetry,
    replica: replication.link,
    spans: obs.spans,
    joinToken,
    trust,
    denials,
    log: log.child({ component: "control-plane" }),
    onRegistryChange: (services) => live.setRegistry(services),
    endpointGate,
    metrics,
  });
  const changes = new ConfigChanges(repos, controlPlane, log.child({ component: "changes" }), audit);
  if (cfg.seedFile) {
    // First start only: initial policies (e.g. the demo's payments canary), before the first push round.
    const seeded = await changes.seedIfEmpty(cfg.seedFile);
    if (seeded > 0) log.info("seeded traffic policies", { file: cfg.seedFile, services: seeded });
  }
  await controlPlane.start();
  replication.attach(controlPlane);
  // Canary rollouts resume from the database; with several replicas only the holder of the "canary-analysis" lease runs them.
  const canaries = new Canaries({ repos, changes, store, log: log.child({ component: "canary" }) });
  // The tick runs inside the lease: it is the holder's alone and is tracked (and awaited) by the lease keeper.
  const canaryRunner = new CanaryRunner(
    {
      tick: async () => {
        const r = await exclusive("canary-analysis", () => canaries.tick());
        return r.ran ? r.value : 0;
      },
    },
    log.child({ component: "canary" }),
  );
  canaryRunner.start();
  const liveHub = new LiveHub(() => live.graph(), log.child({ component: "live-hub" }));
  liveHub.start();
  metrics.watch({
    agentsConnected: () => controlPlane.connectedCount,
    liveSockets: () => liveHub.clientCount,
    configVersion: () => controlPlane.currentVersion,
  });
  const services: Services = {
    repos,
    live,
    hub: controlPlane,
    auth,
    denials,
    trustDomain: cfg.trustDomain,
    changes,
    canaries,
    obs,
    trust,
    audit,
    replication,
  };
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    createContext: ({ req }) => ({ ...services, user: userOf(req), clientAddress: clientAddressOf(req) }),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error("trpc error", { path, error });
    },
  });
  return {
    services,
    controlPlane,
    liveHub,
    metrics,
    replication,
    trpc,
    async close() {
      auditRetention.stop();
      await canaryRunner.stop();
      await Promise.all([controlPlane.close(), liveHub.close(), endpointGate?.stop()]);
      await Promise.race([replication.close(), new Promise((r) => setTimeout(r, 300).unref())]);
      await Promise.race([obs.close(), new Promise((r) => setTimeout(r, 500).unref())]);
    },
  };
}

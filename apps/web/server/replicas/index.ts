/**
 * Several console replicas on one PostgreSQL (issue 11), wired once in console/backend.ts:
 *
 *   presence.ts          this replica's id and heartbeat; agents of replicas gone silent are withdrawn
 *   bus.ts, pg-bus.ts    LISTEN/NOTIFY between replicas (a no-op on SQLite: one process)
 *   telemetry-share.ts   per-second edge aggregates shared, so every live graph shows every agent
 *   lease.ts, leases.ts  `runExclusively(name, job)`: run-once work on the holder of a database lease
 *
 * Config versions come from the shared MeshState row (repositories/mesh-state.ts); a replica announces the changes
 * it made and the others run a push round for their own agents (control-plane/publisher.ts).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ReplicaLink } from "../control-plane/index.ts";
import { isPostgresUrl } from "../database-url.ts";
import type { Logger } from "../log.ts";
import type { Repositories } from "../repositories/index.ts";
import type { TelemetryStore } from "../telemetry-store.ts";
import { type ConfigChanged, LocalBus, type ReplicaBus } from "./bus.ts";
import { LeaseKeeper, leaseOptionsFromEnv } from "./leases.ts";
import { presenceOptionsFromEnv, ReplicaPresence } from "./presence.ts";
import { TelemetryShare } from "./telemetry-share.ts";

export type { RunExclusively } from "./leases.ts";

export interface Replication {
  /** This replica's id (TRELLIS_REPLICA_ID, else `<hostname>-<random>`). */
  id: string;
  bus: ReplicaBus;
  presence: ReplicaPresence;
  leases: LeaseKeeper;
  /** Agents' telemetry goes in here (this replica's store + the share to the others). */
  telemetry: TelemetryShare;
  /** What the control plane needs. */
  link: ReplicaLink;
  /** Once the control plane runs: other replicas' changes (and a resync after the bus reconnects) schedule its rounds. */
  attach(controlPlane: { changedElsewhere(): void }): void;
  close(): Promise<void>;
}

export async function startReplication(opts: {
  databaseUrl: string;
  repos: Repositories;
  store: TelemetryStore;
  log: Logger;
  /** Where this replica serves (shown to operators). */
  url?: string | null;
  /** This replica's id (the console config's: TRELLIS_REPLICA_ID, else `<hostname>-<random>`). */
  id?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<Replication> {
  const { repos, store, log } = opts;
  const env = opts.env ?? process.env;
  const id = opts.id ?? (env.TRELLIS_REPLICA_ID || `${hostname()}-${randomUUID().slice(0, 8)}`);
  const multi = isPostgresUrl(opts.databaseUrl);
  const bus: ReplicaBus = multi ? new (await import("./pg-bus.ts")).PgBus(opts.databaseUrl, log.child({ component: "replica-bus" })) : new LocalBus();
  if ("start" in bus && typeof bus.start === "function") await bus.start();
  let controlPlane: { changedElsewhere(): void } | null = null;
  const announce = (change: { services: string[]; version: number }) =>
    bus.send("config", JSON.stringify({ replica: id, ...change } satisfies ConfigChanged));
  const presence = new ReplicaPresence(repos.replicas, id, presenceOptionsFromEnv(env), log.child({ component: "replicas" }), () => {
    // Agents of a dead replica were withdrawn: rounds here and on the other live replicas.
    controlPlane?.changedElsewhere();
    announce({ services: [], version: 0 });
  });
  await presence.start(opts.url ?? null);
  const leases = new LeaseKeeper(repos.leases, id, leaseOptionsFromEnv(env), log.child({ component: "leases" }));
  leases.start();
  const flushMs = Number(env.TRELLIS_TELEMETRY_SHARE_MS) > 0 ? Number(env.TRELLIS_TELEMETRY_SHARE_MS) : 500;
  const telemetry = new TelemetryShare(store, (chunk) => bus.send("telemetry", chunk), flushMs, log.child({ component: "telemetry-share" }));
  log.info("console replica", { id, shared: bus.shared, leaseTtlMs: leases.options.ttlMs, heartbeatMs: presence.options.heartbeatMs });
  return {
    id,
    bus,
    presence,
    leases,
    telemetry,
    link: {
      id,
      // SQLite is one process: whatever ran before this one is gone.
      liveOthers: () => (bus.shared ? presence.liveOthers() : Promise.resolve([])),
      announce: (change) => {
        if (bus.shared) announce(change);
      },
    },
    attach(cp) {
      controlPlane = cp;
      bus.on("config", (payload) => {
        let change: ConfigChanged | null = null;
        try {
          change = JSON.parse(payload) as ConfigChanged;
        } catch {
          /* a resync is what any message asks for */
        }
        log.debug("config changed on another replica", { from: change?.replica, services: change?.services, version: change?.version });
        cp.changedElsewhere();
      });
      bus.on("telemetry", (payload) => telemetry.receive(payload));
      bus.onResync(() => cp.changedElsewhere());
      if (bus.shared) telemetry.start();
    },
    async close() {
      telemetry.stop();
      telemetry.flush();
      await leases.close();
      await presence.close();
      await bus.close();
    },
  };
}

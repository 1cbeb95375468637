/** Agents / instances: registration from `hello`, liveness, and per-agent config sync state. */
import type { HelloFrame } from "@trellis/protocol";
import type { Db } from "../db.ts";
import { type InstanceRow, instanceNames, type ServiceRepository, subsetKey, toInstanceRow } from "./services.ts";

export type SyncState = "SYNCED" | "STALE" | "NACKED" | "UNKNOWN";

export interface EndpointRow {
  instanceId: string;
  service: string;
  version: string;
  address: string;
  lastSeen: Date;
}

export interface SyncStateRow {
  instanceId: string;
  sentVersion: number;
  ackedVersion: number;
  syncState: SyncState;
  /** `v<version>: <reason>` for a NACKed version, else null. */
  syncError: string | null;
  /** The agent acked since the last write: `syncedAt` becomes the write's time (within the flush interval). */
  acked: boolean;
}

/** The instance columns a `hello` sets (on create and on every reconnect). */
function helloFields(hello: HelloFrame, ids: { serviceId: string; subsetId: string }, now: Date, replicaId: string) {
  return {
    serviceId: ids.serviceId,
    subsetId: ids.subsetId,
    address: hello.inboundAddress,
    inboundPort: hello.ports.inbound,
    outboundPort: hello.ports.outbound,
    adminPort: hello.ports.admin,
    appPort: hello.ports.app,
    agentVersion: hello.agentVersion,
    connected: true,
    lastSeen: now,
    ackedVersion: hello.configVersion,
    replicaId,
  };
}

/** The columns that make an instance's endpoint: a known instance whose hello changes none of them is just back. */
const endpointColumns = {
  serviceId: true,
  subsetId: true,
  address: true,
  inboundPort: true,
  outboundPort: true,
  adminPort: true,
  appPort: true,
} as const;

type Endpoint = { [K in keyof typeof endpointColumns]: K extends "serviceId" | "subsetId" | "address" ? string : number };

const endpointKey = (e: Endpoint): string =>
  [e.serviceId, e.subsetId, e.address, e.inboundPort, e.outboundPort, e.adminPort, e.appPort].join("\u0000");

export class InstanceRepository {
  constructor(
    private readonly db: Db,
    private readonly services: ServiceRepository,
  ) {}

  /** Upserts the service, its version and the instance from a `hello`; marks it connected, held by `replicaId`. */
  async registerHello(hello: HelloFrame, now: Date, replicaId: string): Promise<void> {
    const fields = helloFields(hello, await this.services.ensure(hello.service, hello.version), now, replicaId);
    await this.db.instance.upsert({
      where: { instanceId: hello.instanceId },
      create: { instanceId: hello.instanceId, firstSeen: now, syncState: "UNKNOWN", ...fields },
      update: fields,
    });
  }

  /**
   * `registerHello` for a burst of hellos: services and versions ensured together, new instances created in one
   * statement, and known ones updated in a few statements: an agent that comes back where it was (same service,
   * version, address and ports: a whole fleet after a console restart) shares one `instanceId IN (…)` update with every
   * agent of the same agent and config version; only instances whose endpoint changed get an update each. All in one
   * transaction; the last hello of an instance id wins. Throws when anything conflicts (e.g. a service created
   * meanwhile elsewhere); callers then register one by one.
   */
  async registerHellos(hellos: HelloFrame[], now: Date, replicaId: string): Promise<void> {
    const latest = new Map(hellos.map((h) => [h.instanceId, h]));
    const ids = await this.services.ensureMany([...latest.values()].map((h) => ({ name: h.service, version: h.version })));
    const known = new Map(
      (
        await this.db.instance.findMany({
          where: { instanceId: { in: [...latest.keys()] } },
          select: { instanceId: true, ...endpointColumns },
        })
      ).map((r) => [r.instanceId, endpointKey(r)]),
    );
    const rows = [...latest.values()].map((h) => ({ h, fields: helloFields(h, ids.get(subsetKey(h.service, h.version))!, now, replicaId) }));
    const created = rows.filter((r) => !known.has(r.h.instanceId));
    const moved = rows.filter((r) => known.has(r.h.instanceId) && known.get(r.h.instanceId) !== endpointKey(r.fields));
    const back = new Map<string, { agentVersion: string; ackedVersion: number; ids: string[] }>();
    for (const { h, fields } of rows) {
      if (known.get(h.instanceId) !== endpointKey(fields)) continue; // new, or its endpoint moved
      const key = `${fields.agentVersion}\u0000${fields.ackedVersion}`;
      const group = back.get(key) ?? { agentVersion: fields.agentVersion, ackedVersion: fields.ackedVersion, ids: [] };
      group.ids.push(h.instanceId);
      back.set(key, group);
    }
    const groups = [...back.values()];
    const results = await this.db.$transaction([
      ...groups.map((g) =>
        this.db.instance.updateMany({
          where: { instanceId: { in: g.ids } },
          data: { agentVersion: g.agentVersion, ackedVersion: g.ackedVersion, connected: true, lastSeen: now, replicaId },
        }),
      ),
      ...moved.map(({ h, fields }) => this.db.instance.update({ where: { instanceId: h.instanceId }, data: fields })),
      ...(created.length > 0
        ? [
            this.db.instance.createMany({
              data: created.map(({ h, fields }) => ({ instanceId: h.instanceId, firstSeen: now, syncState: "UNKNOWN", ...fields })),
            }),
          ]
        : []),
    ]);
    // A row deleted since it was read (pruned) updates nothing: the batch conflicts, and one-by-one upserts recreate it.
    const updated = groups.reduce((n, _g, i) => n + (results[i] as { count: number }).count, 0);
    if (updated !== groups.reduce((n, g) => n + g.ids.length, 0)) throw new Error("instances changed while registering");
  }

  /** The socket `replicaId` held closed; a row another replica holds by now (the agent failed over) is left alone. */
  async markDisconnected(instanceId: string, now: Date, replicaId: string): Promise<void> {
    await this.db.instance.updateMany({ where: { instanceId, replicaId }, data: { connected: false, lastSeen: now } });
  }

  /** Refreshes lastSeen of live agents (batched, every few seconds). */
  async touch(instanceIds: string[], now: Date): Promise<void> {
    if (instanceIds.length === 0) return;
    await this.db.instance.updateMany({ where: { instanceId: { in: instanceIds } }, data: { lastSeen: now } });
  }

  /**
   * Persists the sync state of many agents in one transaction: the hub keeps the live state in memory and writes the
   * agents whose state changed a few times a second. Agents in the same state (the common case: one version pushed to
   * all) share one `instanceId IN (…)` statement, so a thousand agents cost a handful of statements, not a thousand.
   */
  async recordSyncStates(rows: SyncStateRow[], now: Date, replicaId: string): Promise<void> {
    if (rows.length === 0) return;
    const groups = new Map<string, { data: SyncStateRow; ids: string[] }>();
    for (const r of rows) {
      const key = JSON.stringify([r.sentVersion, r.ackedVersion, r.syncState, r.syncError, r.acked]);
      const g = groups.get(key);
      if (g) g.ids.push(r.instanceId);
      else groups.set(key, { data: r, ids: [r.instanceId] });
    }
    await this.db.$transaction(
      [...groups.values()].map(({ data, ids }) =>
        this.db.instance.updateMany({
          // Only rows this replica still holds: an agent gone to another replica has its sync state written there.
          where: { instanceId: { in: ids }, replicaId },
          data: {
            sentVersion: data.sentVersion,
            ackedVersion: data.ackedVersion,
            syncState: data.syncState,
            syncError: data.syncError,
            ...(data.acked ? { syncedAt: now } : {}),
          },
        }),
      ),
    );
  }

  /**
   * At console start: instances still marked connected (the console went away under them) and seen within
   * `graceMs` are returned so they stay endpoints until they reconnect or the grace passes; then they are marked
   * disconnected, since no agent socket exists yet. Instances held by `liveReplicas` (other consoles on the same
   * database, heartbeat fresh) are theirs and left alone.
   */
  async recoverAfterRestart(graceMs: number, now: Date, liveReplicas: string[] = []): Promise<EndpointRow[]> {
    const orphaned = { connected: true, OR: [{ replicaId: null }, { replicaId: { notIn: liveReplicas } }] };
    const rows = await this.db.instance.findMany({
      where: { ...orphaned, lastSeen: { gte: new Date(now.getTime() - graceMs) } },
      include: instanceNames,
    });
    await this.db.instance.updateMany({ where: orphaned, data: { connected: false } });
    return rows.map((r) => ({
      instanceId: r.instanceId,
      service: r.service.name,
      version: r.subset.version,
      address: r.address,
      lastSeen: r.lastSeen,
    }));
  }

  /** Graceful shutdown: keep `connected` (the console closed the sockets, not the agents) and stamp lastSeen. */
  async stampConnected(now: Date, replicaId: string): Promise<void> {
    await this.db.instance.updateMany({ where: { connected: true, replicaId }, data: { lastSeen: now } });
  }

  /** Sync state of the connected agents other replicas hold (written by them; this replica knows its own live). */
  async syncHeldElsewhere(
    replicaId: string,
  ): Promise<{ instanceId: string; ackedVersion: number; sentVersion: number; syncState: SyncState; lastError: string | null }[]> {
    const rows = await this.db.instance.findMany({
      where: { connected: true, OR: [{ replicaId: null }, { replicaId: { not: replicaId } }] },
      select: { instanceId: true, ackedVersion: true, sentVersion: true, syncState: true, syncError: true },
    });
    return rows.map((r) => ({ ...r, syncState: r.syncState as SyncState, lastError: r.syncError }));
  }

  async connectedEndpoints(): Promise<EndpointRow[]> {
    const rows = await this.db.instance.findMany({
      where: { connected: true },
      orderBy: { instanceId: "asc" },
      include: instanceNames,
    });
    return rows.map((r) => ({
      instanceId: r.instanceId,
      service: r.service.name,
      version: r.subset.version,
      address: r.address,
      lastSeen: r.lastSeen,
    }));
  }

  async list(opts: { connectedOnly?: boolean; limit?: number } = {}): Promise<InstanceRow[]> {
    const rows = await this.db.instance.findMany({
      where: opts.connectedOnly ? { connected: true } : undefined,
      orderBy: [{ connected: "desc" }, { lastSeen: "desc" }],
      take: opts.limit ?? 500,
      include: instanceNames,
    });
    return rows.map(toInstanceRow);
  }

  /** Connected agents per holding replica id. */
  async connectedByReplica(): Promise<Map<string | null, number>> {
    const groups = await this.db.instance.groupBy({ by: ["replicaId"], where: { connected: true }, _count: { _all: true } });
    return new Map(groups.map((g) => [g.replicaId, g._count._all]));
  }

  /** Agents connected to any replica. */
  async countConnected(): Promise<number> {
    return this.db.instance.count({ where: { connected: true } });
  }

  /** Forgets instances disconnected for longer than `olderThanMs` (agents with a fresh id each start pile up). */
  async pruneDisconnected(olderThanMs: number, now: Date): Promise<number> {
    const r = await this.db.instance.deleteMany({
      where: { connected: false, lastSeen: { lt: new Date(now.getTime() - olderThanMs) } },
    });
    return r.count;
  }
}

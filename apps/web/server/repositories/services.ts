/** Services and their versions (subsets). */

import type { ServiceInfo } from "../../shared/graph-model.ts";
import type { ServiceAgents } from "../../shared/services-overview.ts";
import type { Db } from "../db.ts";

export interface ServiceListItem {
  name: string;
  versions: string[];
  instances: number;
  connected: number;
  createdAt: string;
}

export interface ServiceDetail {
  name: string;
  createdAt: string;
  versions: { version: string; instances: number; connected: number }[];
  instances: InstanceRow[];
}

/** The key of a (service, version) pair in `ensureMany`'s answer. */
export const subsetKey = (service: string, version: string): string => `${service}\u0000${version}`;

export interface InstanceRow {
  instanceId: string;
  service: string;
  version: string;
  address: string;
  ports: { inbound: number; outbound: number; admin: number; app: number };
  agentVersion: string;
  connected: boolean;
  firstSeen: string;
  lastSeen: string;
  ackedVersion: number;
  sentVersion: number;
  syncState: string;
  syncError: string | null;
  syncedAt: string | null;
  /** The console replica holding its socket (issue 11). */
  replicaId: string | null;
}

type InstanceWithNames = {
  instanceId: string;
  address: string;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  appPort: number;
  agentVersion: string;
  connected: boolean;
  firstSeen: Date;
  lastSeen: Date;
  ackedVersion: number;
  sentVersion: number;
  syncState: string;
  replicaId?: string | null;
  syncError: string | null;
  syncedAt: Date | null;
  service: { name: string };
  subset: { version: string };
};

export function toInstanceRow(i: InstanceWithNames): InstanceRow {
  return {
    instanceId: i.instanceId,
    service: i.service.name,
    version: i.subset.version,
    address: i.address,
    ports: { inbound: i.inboundPort, outbound: i.outboundPort, admin: i.adminPort, app: i.appPort },
    agentVersion: i.agentVersion,
    connected: i.connected,
    firstSeen: i.firstSeen.toISOString(),
    lastSeen: i.lastSeen.toISOString(),
    ackedVersion: i.ackedVersion,
    sentVersion: i.sentVersion,
    syncState: i.syncState,
    syncError: i.syncError,
    syncedAt: i.syncedAt ? i.syncedAt.toISOString() : null,
    replicaId: i.replicaId ?? null,
  };
}

export const instanceNames = { service: { select: { name: true } }, subset: { select: { version: true } } } as const;

export class ServiceRepository {
  constructor(private readonly db: Db) {}

  /** Creates the service and version if new; returns their ids. */
  async ensure(name: string, version: string): Promise<{ serviceId: string; subsetId: string }> {
    const service = await this.db.service.upsert({ where: { name }, create: { name }, update: {}, select: { id: true } });
    const subset = await this.db.subset.upsert({
      where: { serviceId_version: { serviceId: service.id, version } },
      create: { serviceId: service.id, version },
      update: {},
      select: { id: true },
    });
    return { serviceId: service.id, subsetId: subset.id };
  }

  /**
   * `ensure` for many (service, version) pairs at once — a few statements for a whole burst of hellos. Keyed by
   * `subsetKey(name, version)`. A pair created meanwhile by someone else makes it throw (callers fall back to `ensure`).
   */
  async ensureMany(pairs: { name: string; version: string }[]): Promise<Map<string, { serviceId: string; subsetId: string }>> {
    const names = [...new Set(pairs.map((p) => p.name))];
    const services = new Map(
      (await this.db.service.findMany({ where: { name: { in: names } }, select: { id: true, name: true } })).map((s) => [s.name, s.id]),
    );
    const newNames = names.filter((n) => !services.has(n));
    if (newNames.length > 0)
      for (const s of await this.db.service.createManyAndReturn({ data: newNames.map((name) => ({ name })), select: { id: true, name: true } }))
        services.set(s.name, s.id);
    const subsets = new Map(
      (
        await this.db.subset.findMany({
          where: { serviceId: { in: [...services.values()] } },
          select: { id: true, serviceId: true, version: true },
        })
      ).map((s) => [`${s.serviceId}\u0000${s.version}`, s.id]),
    );
    const wanted = new Map(pairs.map((p) => [`${services.get(p.name)}\u0000${p.version}`, { serviceId: services.get(p.name)!, version: p.version }]));
    const newSubsets = [...wanted.entries()].filter(([k]) => !subsets.has(k)).map(([, v]) => v);
    if (newSubsets.length > 0)
      for (const s of await this.db.subset.createManyAndReturn({ data: newSubsets, select: { id: true, serviceId: true, version: true } }))
        subsets.set(`${s.serviceId}\u0000${s.version}`, s.id);
    const out = new Map<string, { serviceId: string; subsetId: string }>();
    for (const p of pairs) {
      const serviceId = services.get(p.name)!;
      out.set(subsetKey(p.name, p.version), { serviceId, subsetId: subsets.get(`${serviceId}\u0000${p.version}`)! });
    }
    return out;
  }

  /** Every service with its versions and instance counts (for the live graph). */
  async summaries(): Promise<ServiceInfo[]> {
    const services = await this.db.service.findMany({
      orderBy: { name: "asc" },
      select: {
        name: true,
        subsets: { orderBy: { version: "asc" }, select: { version: true, instances: { select: { connected: true } } } },
      },
    });
    return services.map((s) => ({
      name: s.name,
      versions: s.subsets.map((v) => ({
        version: v.version,
        instances: v.instances.length,
        connected: v.instances.filter((i) => i.connected).length,
      })),
    }));
  }

  async list(): Promise<ServiceListItem[]> {
    const services = await this.db.service.findMany({
      orderBy: { name: "asc" },
      select: {
        name: true,
        createdAt: true,
        subsets: { orderBy: { version: "asc" }, select: { version: true } },
        instances: { select: { connected: true } },
      },
    });
    return services.map((s) => ({
      name: s.name,
      versions: s.subsets.map((v) => v.version),
      instances: s.instances.length,
      connected: s.instances.filter((i) => i.connected).length,
      createdAt: s.createdAt.toISOString(),
    }));
  }

  /** Every service with its versions and each known agent's connection and recorded sync state (services overview). */
  async withAgents(): Promise<ServiceAgents[]> {
    const services = await this.db.service.findMany({
      orderBy: { name: "asc" },
      select: {
        name: true,
        subsets: { orderBy: { version: "asc" }, select: { version: true } },
        instances: { select: { connected: true, syncState: true } },
      },
    });
    return services.map((s) => ({ name: s.name, versions: s.subsets.map((v) => v.version), agents: s.instances }));
  }

  async get(name: string): Promise<ServiceDetail | null> {
    const s = await this.db.service.findUnique({
      where: { name },
      select: {
        name: true,
        createdAt: true,
        subsets: { orderBy: { version: "asc" }, select: { version: true } },
        instances: {
          orderBy: [{ connected: "desc" }, { lastSeen: "desc" }],
          take: 200,
          include: instanceNames,
        },
      },
    });
    if (!s) return null;
    const instances = s.instances.map(toInstanceRow);
    return {
      name: s.name,
      createdAt: s.createdAt.toISOString(),
      versions: s.subsets.map((v) => ({
        version: v.version,
        instances: instances.filter((i) => i.version === v.version).length,
        connected: instances.filter((i) => i.version === v.version && i.connected).length,
      })),
      instances,
    };
  }
}

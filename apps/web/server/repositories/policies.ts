/**
 * Traffic policies (TrafficPolicy: split + routes; ResiliencePolicy: timeout, retries, breaker, outlier, LB, faults)
 * and the config history (ConfigRevision). A policy is read and written as one protocol `ServicePolicy` document;
 * a change and its revision are written in one transaction. Callers validate before calling (nothing invalid is
 * stored): see server/traffic.ts.
 */
import type { AuthzRule, MtlsMode, ServicePolicy } from "@trellis/protocol";
import type { Db } from "../db.ts";

/** The security part of a service's config as revisions record it (kinds `mtls`, `authz`; see server/traffic.ts). */
export interface SecurityDoc {
  mtls?: MtlsMode;
  authorization?: AuthzRule[];
}

/**
 * What a revision's before/after hold: a ServicePolicy (traffic kinds) or a SecurityDoc (`mtls`, `authz` and their
 * rollbacks). The two never share a key, so a revision's domain is read from its keys (`isSecurityDoc`).
 */
export type RevisionDoc = ServicePolicy & SecurityDoc;

export function isSecurityDoc(doc: object): boolean {
  return "mtls" in doc || "authorization" in doc;
}

export interface RevisionRow {
  id: number;
  createdAt: string;
  actor: string;
  service: string;
  kind: string;
  summary: string;
  before: RevisionDoc;
  after: RevisionDoc;
  diff: string[];
  configVersion: number;
  rollbackOf: number | null;
}

export interface CommitInput {
  service: string;
  actor: string;
  kind: string;
  summary: string;
  before: RevisionDoc;
  after: RevisionDoc;
  diff: string[];
  rollbackOf?: number | null;
}

type TrafficRow = { serviceName: string; split: string | null; routes: string };
type ResilienceRow = {
  serviceName: string;
  timeoutMs: number | null;
  loadBalancer: string | null;
  retries: string | null;
  circuitBreaker: string | null;
  outlierDetection: string | null;
  faultInjection: string | null;
};

const parse = (s: string | null): unknown => (s === null ? undefined : JSON.parse(s));
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

function toPolicy(t: TrafficRow | undefined, r: ResilienceRow | undefined): ServicePolicy {
  const p: Record<string, unknown> = {};
  if (t) {
    if (t.split !== null) p.split = parse(t.split);
    const routes = parse(t.routes) as unknown[] | undefined;
    if (routes && routes.length > 0) p.routes = routes;
  }
  if (r) {
    if (r.timeoutMs !== null) p.timeoutMs = r.timeoutMs;
    if (r.loadBalancer !== null) p.loadBalancer = r.loadBalancer;
    for (const k of ["retries", "circuitBreaker", "outlierDetection", "faultInjection"] as const) if (r[k] !== null) p[k] = parse(r[k]);
  }
  return p as ServicePolicy;
}

export function toRevision(r: {
  id: number;
  createdAt: Date;
  actor: string;
  serviceName: string;
  kind: string;
  summary: string;
  before: string;
  after: string;
  diff: string;
  configVersion: number;
  rollbackOf: number | null;
}): RevisionRow {
  return {
    id: r.id,
    createdAt: r.createdAt.toISOString(),
    actor: r.actor,
    service: r.serviceName,
    kind: r.kind,
    summary: r.summary,
    before: JSON.parse(r.before),
    after: JSON.parse(r.after),
    diff: r.diff === "" ? [] : r.diff.split("\n"),
    configVersion: r.configVersion,
    rollbackOf: r.rollbackOf,
  };
}

/** The ConfigRevision row a commit creates (shared with the security repository, which commits in its own transaction). */
export function revisionData(c: CommitInput) {
  return {
    actor: c.actor,
    serviceName: c.service,
    kind: c.kind,
    summary: c.summary,
    before: JSON.stringify(c.before),
    after: JSON.stringify(c.after),
    diff: c.diff.join("\n"),
    rollbackOf: c.rollbackOf ?? null,
  };
}

export class PolicyRepository {
  constructor(private readonly db: Db) {}

  /** Every service's policy (services without one are absent). */
  async all(): Promise<Map<string, ServicePolicy>> {
    const [traffic, resilience] = await Promise.all([this.db.trafficPolicy.findMany(), this.db.resiliencePolicy.findMany()]);
    const t = new Map(traffic.map((x) => [x.serviceName, x]));
    const r = new Map(resilience.map((x) => [x.serviceName, x]));
    const out = new Map<string, ServicePolicy>();
    for (const name of new Set([...t.keys(), ...r.keys()])) {
      const p = toPolicy(t.get(name), r.get(name));
      if (Object.keys(p).length > 0) out.set(name, p);
    }
    return out;
  }

  async get(service: string): Promise<ServicePolicy> {
    const [t, r] = await Promise.all([
      this.db.trafficPolicy.findUnique({ where: { serviceName: service } }),
      this.db.resiliencePolicy.findUnique({ where: { serviceName: service } }),
    ]);
    return toPolicy(t ?? undefined, r ?? undefined);
  }

  /** Whether anything was ever configured (policies or history): the seed applies only to an empty store. */
  async isEmpty(): Promise<boolean> {
    const [a, b, c] = await Promise.all([this.db.trafficPolicy.count(), this.db.resiliencePolicy.count(), this.db.configRevision.count()]);
    return a + b + c === 0;
  }

  /** Stores `after` as the service's whole policy and records the revision, atomically. */
  async commit(c: CommitInput): Promise<RevisionRow> {
    const a = c.after;
    const traffic = { split: json(a.split), routes: JSON.stringify(a.routes ?? []), updatedBy: c.actor };
    const resilience = {
      timeoutMs: a.timeoutMs ?? null,
      loadBalancer: a.loadBalancer ?? null,
      retries: json(a.retries),
      circuitBreaker: json(a.circuitBreaker),
      outlierDetection: json(a.outlierDetection),
      faultInjection: json(a.faultInjection),
      updatedBy: c.actor,
    };
    const [, , rev] = await this.db.$transaction([
      this.db.trafficPolicy.upsert({ where: { serviceName: c.service }, create: { serviceName: c.service, ...traffic }, update: traffic }),
      this.db.resiliencePolicy.upsert({
        where: { serviceName: c.service },
        create: { serviceName: c.service, ...resilience },
        update: resilience,
      }),
      this.db.configRevision.create({ data: revisionData(c) }),
    ]);
    return toRevision(rev);
  }

  async setRevisionVersion(id: number, configVersion: number): Promise<void> {
    await this.db.configRevision.update({ where: { id }, data: { configVersion } });
  }

  async revisions(opts: { service?: string; limit?: number } = {}): Promise<RevisionRow[]> {
    const rows = await this.db.configRevision.findMany({
      where: opts.service ? { serviceName: opts.service } : undefined,
      orderBy: { id: "desc" },
      take: opts.limit ?? 100,
    });
    return rows.map(toRevision);
  }

  async revision(id: number): Promise<RevisionRow | null> {
    const r = await this.db.configRevision.findUnique({ where: { id } });
    return r ? toRevision(r) : null;
  }

  async revisionCount(): Promise<number> {
    return this.db.configRevision.count();
  }
}

/**
 * Traffic policies (TrafficPolicy: split + routes + mirror; ResiliencePolicy: timeout, retries, breaker, outlier, LB, faults)
 * of every service. A policy is read and written as one protocol `ServicePolicy` document;
 * a change and its revision are written in one transaction. Callers validate before calling (nothing invalid is
 * stored): see server/changes/kinds/traffic.ts. The history itself is read through revisions.ts.
 */
import type { ServicePolicy } from "@trellis/protocol";
import type { Db } from "../db.ts";
import { type CommitInput, type RevisionRow, revisionData, toRevision } from "./revisions.ts";

type TrafficRow = { serviceName: string; split: string | null; routes: string; mirror: string | null };
type ResilienceRow = {
  serviceName: string;
  timeoutMs: number | null;
  idleTimeoutMs: number | null;
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
    if (t.mirror !== null) p.mirror = parse(t.mirror);
  }
  if (r) {
    if (r.timeoutMs !== null) p.timeoutMs = r.timeoutMs;
    if (r.idleTimeoutMs !== null) p.idleTimeoutMs = r.idleTimeoutMs;
    if (r.loadBalancer !== null) p.loadBalancer = r.loadBalancer;
    for (const k of ["retries", "circuitBreaker", "outlierDetection", "faultInjection"] as const) if (r[k] !== null) p[k] = parse(r[k]);
  }
  return p as ServicePolicy;
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
  async commit(service: string, after: ServicePolicy, c: CommitInput): Promise<RevisionRow> {
    const a = after;
    const traffic = { split: json(a.split), routes: JSON.stringify(a.routes ?? []), mirror: json(a.mirror), updatedBy: c.actor };
    const resilience = {
      timeoutMs: a.timeoutMs ?? null,
      idleTimeoutMs: a.idleTimeoutMs ?? null,
      loadBalancer: a.loadBalancer ?? null,
      retries: json(a.retries),
      circuitBreaker: json(a.circuitBreaker),
      outlierDetection: json(a.outlierDetection),
      faultInjection: json(a.faultInjection),
      updatedBy: c.actor,
    };
    const [, , rev] = await this.db.$transaction([
      this.db.trafficPolicy.upsert({ where: { serviceName: service }, create: { serviceName: service, ...traffic }, update: traffic }),
      this.db.resiliencePolicy.upsert({
        where: { serviceName: service },
        create: { serviceName: service, ...resilience },
        update: resilience,
      }),
      this.db.configRevision.create({ data: revisionData(c) }),
    ]);
    return toRevision(rev);
  }
}

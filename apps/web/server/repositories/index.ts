import type { Db } from "../db.ts";
import { ApiTokenRepository } from "./api-tokens.ts";
import { AuditRepository } from "./audit.ts";
import { CanaryRepository } from "./canaries.ts";
import { InstanceRepository } from "./instances.ts";
import { LeaseRepository } from "./leases.ts";
import { MeshStateRepository } from "./mesh-state.ts";
import { PolicyRepository } from "./policies.ts";
import { ReplicaRepository } from "./replicas.ts";
import { RevisionRepository } from "./revisions.ts";
import { RollupRepository } from "./rollups.ts";
import { JoinTokenRepository, UserRepository } from "./security.ts";
import { SecurityPolicyRepository } from "./security-policies.ts";
import { ServiceRepository } from "./services.ts";
import { SpanRepository } from "./spans.ts";
import { TelemetryPolicyRepository } from "./telemetry-policy.ts";

export interface Repositories {
  services: ServiceRepository;
  instances: InstanceRepository;
  meshState: MeshStateRepository;
  policies: PolicyRepository;
  /** The config history of every part (traffic, mtls, authz, sampling). */
  revisions: RevisionRepository;
  /** mTLS modes and authorization rules (issue 4); `policies` holds the traffic / resilience policies. */
  security: SecurityPolicyRepository;
  users: UserRepository;
  joinTokens: JoinTokenRepository;
  /** Bearer tokens for the API (issue 11). */
  apiTokens: ApiTokenRepository;
  spans: SpanRepository;
  rollups: RollupRepository;
  telemetryPolicy: TelemetryPolicyRepository;
  /** Sign-ins, users, tokens and config changes (issue 13). */
  audit: AuditRepository;
  /** Console replicas sharing the database and their heartbeats (issue 11). */
  replicas: ReplicaRepository;
  /** Leases for run-once background work (issue 11). */
  leases: LeaseRepository;
  /** Canary rollouts and their analysis windows (issue 14). */
  canaries: CanaryRepository;
}

export function createRepositories(db: Db): Repositories {
  const services = new ServiceRepository(db);
  return {
    services,
    instances: new InstanceRepository(db, services),
    meshState: new MeshStateRepository(db),
    policies: new PolicyRepository(db),
    revisions: new RevisionRepository(db),
    security: new SecurityPolicyRepository(db),
    users: new UserRepository(db),
    joinTokens: new JoinTokenRepository(db),
    apiTokens: new ApiTokenRepository(db),
    spans: new SpanRepository(db),
    rollups: new RollupRepository(db),
    telemetryPolicy: new TelemetryPolicyRepository(db),
    audit: new AuditRepository(db),
    replicas: new ReplicaRepository(db),
    leases: new LeaseRepository(db),
    canaries: new CanaryRepository(db),
  };
}

export type { ApiTokenRow, VerifiedApiToken } from "./api-tokens.ts";
export type { ActorKind, AuditFilter, AuditInput, AuditOutcome, AuditRow } from "./audit.ts";
export type { CanaryCheckRow, CanaryRow } from "./canaries.ts";
export type { EndpointRow, SyncState, SyncStateRow } from "./instances.ts";
export type { ReplicaRow } from "./replicas.ts";
export type { CommitInput, RevisionPart, RevisionRow } from "./revisions.ts";
export type { JoinTokenRow, Role, SessionUser } from "./security.ts";
export type { AuthzRuleRow } from "./security-policies.ts";
export type { InstanceRow, ServiceDetail, ServiceListItem } from "./services.ts";

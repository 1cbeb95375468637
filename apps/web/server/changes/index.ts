/**
 * Config changes as the API offers them: each operation is an edit of one part taken down the one road (road.ts).
 *   traffic   setSplit, setMirror, updatePolicy, canarySplit  (kinds/traffic.ts)
 *   mtls      setMtls                              (kinds/security.ts)
 *   authz     addAuthzRule, addAuthzRules, removeAuthzRule (kinds/security.ts)
 *   sampling  setSampling                          (kinds/sampling.ts)
 *   mtls-default  setMtlsDefault                   (kinds/mtls-default.ts)
 *   any       rollback, history
 */

import type { AuthzRule, MtlsMode, ServicePolicy } from "@trellis/protocol";
import { authzRuleText, mirrorSummary, splitSummary } from "../../shared/policy-diff.ts";
import type { AuditLog } from "../audit/audit-log.ts";
import { notFound } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Repositories, RevisionRow } from "../repositories/index.ts";
import { ruleKey } from "../repositories/security-policies.ts";
import type { TelemetryPolicy } from "../repositories/telemetry-policy.ts";
import { type MtlsDefaultDoc, mtlsDefaultKind } from "./kinds/mtls-default.ts";
import { samplingKind } from "./kinds/sampling.ts";
import { type AuthzDoc, authzKind, type MtlsDoc, mtlsKind } from "./kinds/security.ts";
import { patchAction, patchEdit, seedTrafficPolicies, serviceOf, trafficKind, versionsOf } from "./kinds/traffic.ts";
import { type ChangeResult, ChangeRoad, type ConfigPublisher } from "./road.ts";

export type { ChangeResult, ConfigPublisher } from "./road.ts";

export class ConfigChanges {
  private readonly road: ChangeRoad;

  constructor(
    private readonly repos: Repositories,
    publisher: ConfigPublisher,
    log: Logger,
    audit: AuditLog | null = null,
  ) {
    const kinds = {
      traffic: trafficKind(repos),
      mtls: mtlsKind(repos),
      authz: authzKind(repos),
      sampling: samplingKind(repos),
      "mtls-default": mtlsDefaultKind(repos),
    };
    this.road = new ChangeRoad(repos, kinds, publisher, log, audit);
  }

  // ---------------------------------------------------------------- traffic

  async trafficPolicy(service: string): Promise<{ policy: ServicePolicy; versions: string[] }> {
    const [policy, versions] = await Promise.all([this.repos.policies.get(serviceOf(service)), versionsOf(this.repos, service)]);
    return { policy, versions };
  }

  /** Sets the default split (null removes it: balance over every endpoint). */
  setSplit(service: string, split: unknown, actor: string): Promise<ChangeResult<ServicePolicy>> {
    return this.road.change<ServicePolicy>("traffic", service, actor, "split", patchEdit({ split }), {
      summary: (before, after) => `split ${splitSummary(before.split)} → ${splitSummary(after.split)}`,
    });
  }

  /**
   * A canary rollout's step (server/canary): the split it sets, recorded as `kind` (canary-start, canary-step,
   * canary-promote, canary-rollback, canary-abort) with the reason (the analysis' figures) as the history's summary.
   */
  canarySplit(
    service: string,
    split: { version: string; weight: number }[],
    actor: string,
    kind: string,
    reason: string,
  ): Promise<ChangeResult<ServicePolicy>> {
    return this.road.change<ServicePolicy>("traffic", service, actor, kind, patchEdit({ split }), {
      summary: (before, after) => `${reason} (split ${splitSummary(before.split)} → ${splitSummary(after.split)})`,
    });
  }

  /** Mirrors `percent` % of the service's calls to one of its versions (null stops mirroring). */
  setMirror(service: string, mirror: unknown, actor: string): Promise<ChangeResult<ServicePolicy>> {
    return this.road.change<ServicePolicy>("traffic", service, actor, "mirror", patchEdit({ mirror }), {
      summary: (before, after) => `mirror ${mirrorSummary(before.mirror)} → ${mirrorSummary(after.mirror)}`,
    });
  }

  /** Replaces the given parts of the policy (`null` removes one); the rest is kept. */
  async updatePolicy(service: string, patch: Record<string, unknown>, actor: string): Promise<ChangeResult<ServicePolicy>> {
    return this.road.change<ServicePolicy>("traffic", service, actor, patchAction(patch), patchEdit(patch));
  }

  seedIfEmpty(file: string): Promise<number> {
    return seedTrafficPolicies(this.repos, file);
  }

  // ---------------------------------------------------------------- security

  setMtls(service: string, mode: MtlsMode, actor: string): Promise<ChangeResult<MtlsDoc>> {
    return this.road.change<MtlsDoc>("mtls", service, actor, "mtls", () => ({ mtls: mode }), {
      summary: (before, after) => `mTLS ${before.mtls} → ${after.mtls}`,
    });
  }

  /** Adds an allow rule; `id` is the rule's row. */
  async addAuthzRule(service: string, rule: AuthzRule, actor: string): Promise<ChangeResult<AuthzDoc> & { id: string }> {
    const result = await this.road.change<AuthzDoc>(
      "authz",
      service,
      actor,
      "authz",
      (current) => ({ authorization: [...current.authorization, rule] }),
      {
        summary: () => `allow ${authzRuleText(rule)}`,
      },
    );
    const rows = await this.repos.security.authzRules(service);
    const row = rows.filter((r) => ruleKey(r) === ruleKey(rule)).at(-1);
    return { ...result, id: row?.id ?? "" };
  }

  /**
   * Adds several allow rules in one revision (the rules generated from observed traffic); rules already present are
   * not added twice.
   */
  addAuthzRules(service: string, rules: AuthzRule[], actor: string, summary: string): Promise<ChangeResult<AuthzDoc>> {
    return this.road.change<AuthzDoc>(
      "authz",
      service,
      actor,
      "authz",
      (current) => {
        const have = new Set(current.authorization.map(ruleKey));
        const fresh = rules.filter((r) => !have.has(ruleKey(r)));
        return { authorization: [...current.authorization, ...fresh] };
      },
      { summary: () => summary },
    );
  }

  /** Removes one allow rule by its id. */
  async removeAuthzRule(id: string, actor: string): Promise<ChangeResult<AuthzDoc>> {
    const rule = await this.repos.security.authzRule(id);
    if (!rule) throw notFound("id: no such rule");
    return this.road.change<AuthzDoc>(
      "authz",
      rule.service,
      actor,
      "authz",
      (current) => {
        const i = current.authorization.findIndex((r) => ruleKey(r) === ruleKey(rule));
        return { authorization: current.authorization.filter((_r, j) => j !== i) };
      },
      { summary: () => `remove rule ${authzRuleText(rule)}` },
    );
  }

  // ---------------------------------------------------------------- sampling (mesh-wide)

  setSampling(policy: TelemetryPolicy, actor: string): Promise<ChangeResult<TelemetryPolicy>> {
    return this.road.change<TelemetryPolicy>("sampling", null, actor, "sampling", () => policy, {
      summary: (before, after) =>
        before.sampleRate !== after.sampleRate ? `sampling ${before.sampleRate * 100}% → ${after.sampleRate * 100}%` : "sampling: slow thresholds",
    });
  }

  // ---------------------------------------------------------------- mTLS default (mesh-wide)

  /** The mesh-wide mTLS mode of services without an override (PERMISSIVE or STRICT). */
  setMtlsDefault(mode: MtlsDefaultDoc["defaultMode"], actor: string): Promise<ChangeResult<MtlsDefaultDoc>> {
    return this.road.change<MtlsDefaultDoc>("mtls-default", null, actor, "mtls-default", () => ({ defaultMode: mode }), {
      summary: (before, after) => `mesh mTLS default ${before.defaultMode} → ${after.defaultMode}`,
    });
  }

  // ---------------------------------------------------------------- any part

  /** Reverts what revision `id` changed (only that, or CONSOLE_ROLLBACK_CONFLICT); the rollback is a new revision. */
  rollback(id: number, actor: string): Promise<ChangeResult> {
    return this.road.rollback(id, actor);
  }

  history(opts: { service?: string; limit?: number } = {}): Promise<RevisionRow[]> {
    return this.repos.revisions.list(opts);
  }
}

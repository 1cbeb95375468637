/**
 * Traffic management on the console side: every change to a service's policy is validated with the protocol's own
 * schemas (the ones the agents apply) against the service's known versions, stored together with a ConfigRevision
 * (who, when, what, before/after, readable diff), then pushed to the agents as a new config version at once.
 * Nothing invalid is stored or pushed. Rollback restores a revision's `before` — as a new revision.
 *
 * Security changes (a service's mTLS mode, its authorization rules) go through here too, as revisions of kind `mtls`
 * and `authz` whose before/after hold the security part only (`{mtls}` / `{authorization: rules}`); rolling one back
 * restores that part (the mode, or exactly the rules it had) the same way.
 */
import { readFileSync } from "node:fs";
import { type AuthzRule, checkServicePolicy, type MtlsMode, type ServicePolicy, serviceNameSchema } from "@trellis/protocol";
import { TRPCError } from "@trpc/server";
import { authzRuleText, policyDiff, securityDiff, splitSummary } from "../shared/policy-diff.ts";
import type { AgentHub } from "./agent-hub.ts";
import type { Logger } from "./log.ts";
import type { Repositories, RevisionRow } from "./repositories/index.ts";
import { isSecurityDoc, type SecurityDoc } from "./repositories/policies.ts";

export interface ChangeResult {
  /** null when the change changed nothing (no revision, no push). */
  revision: RevisionRow | null;
  configVersion: number;
  policy: ServicePolicy;
}

/** Keys of a ServicePolicy an update may set (null removes). */
const POLICY_KEYS = ["split", "routes", "timeoutMs", "loadBalancer", "retries", "circuitBreaker", "outlierDetection", "faultInjection"] as const;

function badRequest(message: string): TRPCError {
  return new TRPCError({ code: "BAD_REQUEST", message });
}

/** JSON with object keys sorted at every level (equal policies, equal strings). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

export class TrafficService {
  /** One change at a time: read-modify-write of a policy and its revision must not interleave. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repos: Repositories,
    private readonly hub: AgentHub,
    private readonly log: Logger,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async versionsOf(service: string): Promise<string[]> {
    const s = await this.repos.services.get(service);
    if (!s) throw new TRPCError({ code: "NOT_FOUND", message: `service: no service named ${service}` });
    return s.versions.map((v) => v.version);
  }

  async get(service: string): Promise<{ policy: ServicePolicy; versions: string[] }> {
    const [policy, versions] = await Promise.all([this.repos.policies.get(service), this.versionsOf(service)]);
    return { policy, versions };
  }

  /** Sets the default split (null removes it: balance over every endpoint). */
  setSplit(service: string, split: unknown, actor: string): Promise<ChangeResult> {
    return this.change(service, actor, "split", (before) => {
      const next: Record<string, unknown> = { ...before };
      if (split === null) delete next.split;
      else next.split = split;
      return next;
    });
  }

  /** Replaces the given parts of the policy (`null` removes one); the rest is kept. */
  update(service: string, patch: Record<string, unknown>, actor: string): Promise<ChangeResult> {
    for (const k of Object.keys(patch))
      if (!(POLICY_KEYS as readonly string[]).includes(k))
        return Promise.reject(badRequest(`${k}: not a policy field (known: ${POLICY_KEYS.join(", ")})`));
    const kind =
      Object.keys(patch).length === 1 && "routes" in patch ? "routes" : Object.keys(patch).length === 1 && "split" in patch ? "split" : "policy";
    return this.change(service, actor, kind, (before) => {
      const next: Record<string, unknown> = { ...before };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === undefined) delete next[k];
        else next[k] = v;
      }
      return next;
    });
  }

  /** Restores the policy (or the security settings) the revision replaced; the rollback is itself a new revision. */
  async rollback(id: number, actor: string): Promise<ChangeResult> {
    const rev = await this.repos.policies.revision(id);
    if (!rev) throw new TRPCError({ code: "NOT_FOUND", message: `id: no revision ${id}` });
    if (isSecurityDoc(rev.before) || isSecurityDoc(rev.after)) return this.rollbackSecurity(rev, actor);
    return this.change(rev.service, actor, "rollback", () => rev.before as Record<string, unknown>, id, true);
  }

  // ---------------------------------------------------------------- security (mTLS mode, authorization rules)

  private async securityState(service: string) {
    const name = serviceNameSchema.safeParse(service);
    if (!name.success) throw badRequest(`service: ${name.error.issues[0]?.message ?? "invalid"}`);
    const state = await this.repos.security.stateOf(service);
    if (!state) throw new TRPCError({ code: "NOT_FOUND", message: `no service named ${service}` });
    return state;
  }

  /** Sets a service's mTLS mode (a revision of kind `mtls`; unchanged = no revision, no push). */
  async setMtls(service: string, mode: MtlsMode, actor: string): Promise<{ revision: RevisionRow | null; configVersion: number }> {
    const revision = await this.serial(async () => {
      const state = await this.securityState(service);
      const before = state.doc.mtls;
      if (before === mode) return null;
      return this.repos.security.commitMtls(state.serviceId, mode, {
        service,
        actor,
        kind: "mtls",
        summary: `mTLS ${before} → ${mode}`,
        before: { mtls: before },
        after: { mtls: mode },
        diff: securityDiff({ mtls: before }, { mtls: mode }),
      });
    });
    return this.pushed(service, "mtls", actor, revision);
  }

  /** Adds an allow rule to a service's authorization policy (a revision of kind `authz`). */
  async addAuthzRule(service: string, rule: AuthzRule, actor: string): Promise<{ id: string; revision: RevisionRow; configVersion: number }> {
    const added = await this.serial(async () => {
      const state = await this.securityState(service);
      const before = state.doc.authorization;
      const after = [...before, rule];
      return this.repos.security.commitAddRule(state.serviceId, rule, {
        service,
        actor,
        kind: "authz",
        summary: `allow ${authzRuleText(rule)}`,
        before: { authorization: before },
        after: { authorization: after },
        diff: securityDiff({ authorization: before }, { authorization: after }),
      });
    });
    const { revision, configVersion } = await this.pushed(service, "authz", actor, added.revision);
    return { id: added.id, revision: revision!, configVersion };
  }

  /** Removes one allow rule (a revision of kind `authz`). */
  async removeAuthzRule(id: string, actor: string): Promise<{ revision: RevisionRow; configVersion: number }> {
    const found = await this.serial(async () => {
      const rule = await this.repos.security.authzRule(id);
      if (!rule) throw new TRPCError({ code: "NOT_FOUND", message: "no such rule" });
      const state = await this.securityState(rule.service);
      const before = state.doc.authorization;
      const after = state.rules.filter((r) => r.id !== id).map((r) => ({ principals: r.principals, methods: r.methods, paths: r.paths }));
      const revision = await this.repos.security.commitRemoveRule(id, {
        service: rule.service,
        actor,
        kind: "authz",
        summary: `remove rule ${authzRuleText(rule)}`,
        before: { authorization: before },
        after: { authorization: after },
        diff: securityDiff({ authorization: before }, { authorization: after }),
      });
      return { service: rule.service, revision };
    });
    const { revision, configVersion } = await this.pushed(found.service, "authz", actor, found.revision);
    return { revision: revision!, configVersion };
  }

  /** Restores the security part a revision replaced: the mode it had, or exactly the rules it had. */
  private async rollbackSecurity(rev: RevisionRow, actor: string): Promise<ChangeResult> {
    const restore: SecurityDoc = {};
    if (rev.before.mtls !== undefined || rev.after.mtls !== undefined) restore.mtls = rev.before.mtls ?? "DISABLE";
    if (rev.before.authorization !== undefined || rev.after.authorization !== undefined) restore.authorization = rev.before.authorization ?? [];
    const revision = await this.serial(async () => {
      const state = await this.securityState(rev.service);
      const before: SecurityDoc = {};
      if (restore.mtls !== undefined) before.mtls = state.doc.mtls;
      if (restore.authorization !== undefined) before.authorization = state.doc.authorization;
      const diff = securityDiff(before, restore);
      if (diff.length === 0) return null;
      return this.repos.security.commitRestore(state.serviceId, restore, {
        service: rev.service,
        actor,
        kind: "rollback",
        summary: `rollback of revision ${rev.id}: ${diff.length} change(s)`,
        before,
        after: restore,
        diff,
        rollbackOf: rev.id,
      });
    });
    const { revision: pushed, configVersion } = await this.pushed(rev.service, "rollback", actor, revision);
    return { revision: pushed, configVersion, policy: await this.repos.policies.get(rev.service) };
  }

  /** After a committed security change: push it, stamp the revision with the version it went out with, log it. */
  private async pushed(service: string, kind: string, actor: string, revision: RevisionRow | null) {
    if (revision === null) return { revision: null, configVersion: this.hub.currentVersion };
    const configVersion = await this.hub.requestPush();
    await this.repos.policies.setRevisionVersion(revision.id, configVersion);
    this.log.info("config change committed", { service, kind, revision: revision.id, actor, configVersion, summary: revision.summary });
    return { revision: { ...revision, configVersion }, configVersion };
  }

  private async change(
    service: string,
    actor: string,
    kind: string,
    edit: (before: ServicePolicy) => Record<string, unknown>,
    rollbackOf: number | null = null,
    skipVersionCheck = false,
  ): Promise<ChangeResult> {
    const name = serviceNameSchema.safeParse(service);
    if (!name.success) throw badRequest(`service: ${name.error.issues[0]?.message ?? "invalid"}`);
    const committed = await this.serial(async () => {
      const versions = await this.versionsOf(service);
      const before = await this.repos.policies.get(service);
      // The same schema the agent applies; errors name the field. A rollback restores what was valid then.
      const checked = checkServicePolicy(edit(before), skipVersionCheck ? null : versions, service);
      if (!checked.ok) throw badRequest(checked.error);
      const after = checked.policy;
      if (canonical(before) === canonical(after)) return { revision: null, policy: after };
      const diff = policyDiff(before, after);
      const summary =
        kind === "rollback"
          ? `rollback of revision ${rollbackOf}: ${diff.length} change(s)`
          : kind === "split"
            ? `split ${splitSummary(before.split)} → ${splitSummary(after.split)}`
            : `${kind}: ${diff.length} change(s)`;
      const revision = await this.repos.policies.commit({ service, actor, kind, summary, before, after, diff, rollbackOf });
      return { revision, policy: after };
    });
    if (committed.revision === null) return { revision: null, configVersion: this.hub.currentVersion, policy: committed.policy };
    const configVersion = await this.hub.requestPush();
    await this.repos.policies.setRevisionVersion(committed.revision.id, configVersion);
    this.log.info("config change committed", {
      service,
      kind,
      revision: committed.revision.id,
      actor,
      configVersion,
      summary: committed.revision.summary,
    });
    return { revision: { ...committed.revision, configVersion }, configVersion, policy: committed.policy };
  }

  /**
   * First start only (no policy and no history yet): applies a seed file `{"services": {"<name>": ServicePolicy}}`,
   * validated with the same schema (versions are not checked: the services may not have registered yet). Called
   * before the hub's first round, so the first snapshots already carry it.
   */
  async seedIfEmpty(file: string): Promise<number> {
    if (!(await this.repos.policies.isEmpty())) return 0;
    const raw = JSON.parse(readFileSync(file, "utf8")) as { services?: Record<string, unknown> };
    let n = 0;
    for (const [service, input] of Object.entries(raw.services ?? {})) {
      const name = serviceNameSchema.safeParse(service);
      if (!name.success) throw new Error(`seed ${file}: services.${service}: not a service name`);
      const checked = checkServicePolicy(input, null, service);
      if (!checked.ok) throw new Error(`seed ${file}: services.${service}.${checked.error}`);
      await this.repos.policies.commit({
        service,
        actor: "seed",
        kind: "seed",
        summary: `initial policy from ${file.split("/").slice(-3).join("/")}`,
        before: {},
        after: checked.policy,
        diff: policyDiff({}, checked.policy),
      });
      n++;
    }
    return n;
  }
}

/**
 * Part `traffic`: a service's ServicePolicy (split, routes, timeout, retries, breaker, outlier detection, LB, faults,
 * mirror),
 * validated with the protocol's checkServicePolicy (the check the agents apply) against the service's known versions.
 * Fields are the policy's top-level keys: a rollback reverts the keys its revision changed.
 */
import { readFileSync } from "node:fs";
import { checkServicePolicy, type ServicePolicy, serviceNameSchema } from "@trellis/protocol";
import { policyDiff } from "../../../shared/policy-diff.ts";
import { invalidConfig, invalidInput, notFound } from "../../errors.ts";
import type { Repositories } from "../../repositories/index.ts";
import type { ChangeKind, Fields, Scope } from "../kind.ts";

/** Keys of a ServicePolicy an update may set (null removes). */
export const POLICY_KEYS = [
  "split",
  "routes",
  "timeoutMs",
  "idleTimeoutMs",
  "loadBalancer",
  "retries",
  "circuitBreaker",
  "outlierDetection",
  "faultInjection",
  "mirror",
] as const;

export function serviceOf(scope: Scope): string {
  const name = serviceNameSchema.safeParse(scope);
  if (!name.success) throw invalidInput(`service: ${name.error.issues[0]?.message ?? "invalid"}`);
  return name.data;
}

/** The versions a service registered; CONSOLE_NOT_FOUND when there is no such service. */
export async function versionsOf(repos: Repositories, service: string): Promise<string[]> {
  const s = await repos.services.get(service);
  if (!s) throw notFound(`service: no service named ${service}`);
  return s.versions.map((v) => v.version);
}

export function trafficKind(repos: Repositories): ChangeKind<ServicePolicy> {
  return {
    part: "traffic",
    read: (scope) => repos.policies.get(serviceOf(scope)),
    async validate(candidate, scope, restoring) {
      const service = serviceOf(scope);
      const versions = await versionsOf(repos, service);
      const checked = checkServicePolicy(candidate, restoring ? null : versions, service);
      if (!checked.ok) throw invalidConfig(checked.error);
      return checked.policy;
    },
    diff: policyDiff,
    fields: (doc) => ({ ...doc }),
    fromFields: (fields: Fields) => ({ ...fields }),
    write: (scope, after, revision) => repos.policies.commit(serviceOf(scope), after, revision),
  };
}

/** The edit of `update`: the given keys replaced (`null` removes one), the rest kept. */
export function patchEdit(patch: Record<string, unknown>): (current: ServicePolicy) => Record<string, unknown> {
  for (const k of Object.keys(patch))
    if (!(POLICY_KEYS as readonly string[]).includes(k)) throw invalidInput(`${k}: not a policy field (known: ${POLICY_KEYS.join(", ")})`);
  return (current) => {
    const next: Record<string, unknown> = { ...current };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === undefined) delete next[k];
      else next[k] = v;
    }
    return next;
  };
}

/** What an update is called in the history: `split`, `routes` or `mirror` when it sets only that, else `policy`. */
export function patchAction(patch: Record<string, unknown>): string {
  const keys = Object.keys(patch);
  return keys.length === 1 && (keys[0] === "split" || keys[0] === "routes" || keys[0] === "mirror") ? keys[0] : "policy";
}

/**
 * First start only (no policy and no history yet): applies a seed file `{"services": {"<name>": ServicePolicy}}`,
 * validated with the same schema (versions are not checked: the services may not have registered yet). Runs before
 * the first push round, so the first snapshots already carry it; its revisions are stamped with version 0.
 */
export async function seedTrafficPolicies(repos: Repositories, file: string): Promise<number> {
  if (!(await repos.policies.isEmpty())) return 0;
  const raw = JSON.parse(readFileSync(file, "utf8")) as { services?: Record<string, unknown> };
  let n = 0;
  for (const [service, input] of Object.entries(raw.services ?? {})) {
    if (!serviceNameSchema.safeParse(service).success) throw new Error(`seed ${file}: services.${service}: not a service name`);
    const checked = checkServicePolicy(input, null, service);
    if (!checked.ok) throw new Error(`seed ${file}: services.${service}.${checked.error}`);
    await repos.policies.commit(service, checked.policy, {
      part: "traffic",
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

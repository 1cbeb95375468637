/**
 * One validation entry point for a service's traffic policy as an operator submits it: the protocol schema plus the
 * versions it names. The console calls it before storing or pushing anything; the agent applies the same schemas to
 * the snapshot. Errors name the field (`split: weights must sum to 100 (got 110)`, `routes.0.version: unknown …`).
 */
import { policyVersionIssues, type ServicePolicy, servicePolicySchema } from "./config.ts";
import { formatIssues } from "./frames.ts";

export type PolicyCheck = { ok: true; policy: ServicePolicy } | { ok: false; error: string };

/**
 * `versions`: the service's known versions; `null` skips the version check (a seed applied before any agent of the
 * service registered).
 */
export function checkServicePolicy(input: unknown, versions: readonly string[] | null, service: string): PolicyCheck {
  const parsed = servicePolicySchema.safeParse(input ?? {});
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
  if (versions !== null) {
    const issues = policyVersionIssues(parsed.data, versions, service);
    if (issues.length > 0) return { ok: false, error: issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  }
  return { ok: true, policy: parsed.data };
}

/** Versions a policy mentions (so a snapshot can list them even before an instance of them registers). */
export function policyVersions(policy: ServicePolicy): string[] {
  const out = new Set<string>();
  for (const e of policy.split ?? []) out.add(e.version);
  for (const r of policy.routes ?? []) {
    if (r.version) out.add(r.version);
    for (const e of r.split ?? []) out.add(e.version);
    if (r.mirror) out.add(r.mirror.version);
  }
  if (policy.mirror) out.add(policy.mirror.version);
  return [...out];
}

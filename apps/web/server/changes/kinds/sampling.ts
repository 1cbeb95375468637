/**
 * Part `sampling`: the mesh's tracing policy (head sampling rate, slow thresholds), mesh-wide (revisions without a
 * service), validated with the protocol's telemetrySettingsSchema (what agents get in their snapshots). Fields:
 * `sampleRate`, `slowThresholdMs` and one `slowThresholdMsByService.<service>` per listed service.
 */
import { telemetrySettingsSchema } from "@trellis/protocol";
import { policyDiff } from "../../../shared/policy-diff.ts";
import { invalidConfig } from "../../errors.ts";
import type { Repositories } from "../../repositories/index.ts";
import type { TelemetryPolicy } from "../../repositories/telemetry-policy.ts";
import { type ChangeKind, type Fields, issuesText } from "../kind.ts";

const schema = telemetrySettingsSchema.omit({ intervalMs: true }).strict();
const BY_SERVICE = "slowThresholdMsByService.";

export function samplingKind(repos: Repositories): ChangeKind<TelemetryPolicy> {
  return {
    part: "sampling",
    read: () => repos.telemetryPolicy.get(),
    async validate(candidate) {
      const parsed = schema.safeParse(candidate);
      if (!parsed.success) throw invalidConfig(issuesText(parsed.error.issues));
      return parsed.data;
    },
    diff: policyDiff,
    fields: (doc) => {
      const out: Fields = { sampleRate: doc.sampleRate, slowThresholdMs: doc.slowThresholdMs };
      for (const [service, ms] of Object.entries(doc.slowThresholdMsByService ?? {})) out[`${BY_SERVICE}${service}`] = ms;
      return out;
    },
    fromFields: (fields: Fields) => {
      const by: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) if (k.startsWith(BY_SERVICE)) by[k.slice(BY_SERVICE.length)] = v;
      return { sampleRate: fields.sampleRate, slowThresholdMs: fields.slowThresholdMs, slowThresholdMsByService: by };
    },
    write: (_scope, after, revision) => repos.telemetryPolicy.commit(after, revision),
  };
}

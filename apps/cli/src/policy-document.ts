/** One YAML document as a service policy input: a ServicePolicy as written, or a Gateway API HTTPRoute translated. */
import { type ServicePolicy, serviceNameSchema, servicePolicyShape } from "@trellis/protocol";
import { translateHttpRoute } from "./httproute.ts";

export type Path = (string | number)[];

const DOC_KEYS = new Set(["kind", "service", "policy"]);
const ALL_FIELDS = Object.keys(servicePolicyShape) as (keyof ServicePolicy)[];

export interface ReadDocument {
  service: string;
  input: unknown;
  fields: (keyof ServicePolicy)[];
  /** Policy path → document path. */
  sourceOf(policyPath: Path): Path;
  /** How a policy path is named in messages. */
  label(policyPath: Path): string;
}

export function readDocument(raw: unknown, at: (path: Path) => string): ReadDocument | { problems: string[] } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { problems: [`${at([])}: expected a mapping with service and policy`] };
  const o = raw as Record<string, unknown>;
  if (o.kind === "HTTPRoute") {
    const t = translateHttpRoute(raw);
    if (!t.ok) return { problems: t.issues.map((i) => `${at(i.path)}: ${i.path.join(".")}: ${i.message}`) };
    return { ...t.value, input: t.value.policy, fields: ["routes", "split"], label: (p) => `HTTPRoute ${p.join(".")}` };
  }
  const problems: string[] = [];
  for (const k of Object.keys(o)) if (!DOC_KEYS.has(k)) problems.push(`${at([k])}: ${k}: unknown field (expected kind, service, policy)`);
  if (o.kind !== undefined && o.kind !== "ServicePolicy") problems.push(`${at(["kind"])}: kind: expected ServicePolicy or HTTPRoute`);
  const service = serviceNameSchema.safeParse(o.service);
  if (!service.success) problems.push(`${at(["service"])}: service: ${service.error.issues[0]?.message ?? "invalid"}`);
  if (problems.length > 0 || !service.success) return { problems };
  return {
    service: service.data,
    input: o.policy ?? {},
    fields: ALL_FIELDS,
    sourceOf: (p) => ["policy", ...p],
    label: (p) => ["policy", ...p].join("."),
  };
}

/**
 * Gateway API `HTTPRoute` in its mesh (GAMMA) form, as an `apply` input: the parentRef is a Service (the mesh service);
 * each rule's backendRefs name per-version Services `<service>-<version>` with weights (summing to 100); a rule with
 * matches becomes one route per match (PathPrefix, Exact or RegularExpression path, method, Exact headers and query
 * parameters: the match conditions Trellis routes on); a rule
 * without matches becomes the service's default split. Sets only the policy's `routes` and `split`.
 */
import { z } from "zod";

const backendRefSchema = z.object({ name: z.string().min(1), weight: z.number().int().min(0).max(100).default(1) }).passthrough();
const matchSchema = z
  .object({
    path: z
      .object({ type: z.enum(["PathPrefix", "Exact", "RegularExpression"]).default("PathPrefix"), value: z.string() })
      .strict()
      .optional(),
    method: z.string().optional(),
    headers: z.array(z.object({ type: z.literal("Exact").default("Exact"), name: z.string(), value: z.string() }).strict()).optional(),
    queryParams: z.array(z.object({ type: z.literal("Exact").default("Exact"), name: z.string(), value: z.string() }).strict()).optional(),
  })
  .strict();
export const httpRouteSchema = z.object({
  apiVersion: z.string().startsWith("gateway.networking.k8s.io/"),
  kind: z.literal("HTTPRoute"),
  metadata: z.object({ name: z.string().min(1) }).passthrough(),
  spec: z
    .object({
      parentRefs: z
        .array(
          z
            .object({ group: z.literal("").default(""), kind: z.literal("Service", "the parentRef must be a Service (mesh form)"), name: z.string() })
            .passthrough(),
        )
        .length(1, "exactly one parentRef (the mesh Service)"),
      rules: z.array(z.object({ matches: z.array(matchSchema).optional(), backendRefs: z.array(backendRefSchema).min(1) }).strict()).min(1),
    })
    .passthrough(),
});

export interface Translated {
  service: string;
  policy: { routes?: unknown[]; split?: unknown };
  /** The document path that a policy path came from (for error positions). */
  sourceOf(policyPath: (string | number)[]): (string | number)[];
}

type Issue = { path: (string | number)[]; message: string };

export function translateHttpRoute(raw: unknown): { ok: true; value: Translated } | { ok: false; issues: Issue[] } {
  const parsed = httpRouteSchema.safeParse(raw);
  if (!parsed.success)
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message })),
    };
  const spec = parsed.data.spec;
  const service = spec.parentRefs[0].name;
  const issues: Issue[] = [];
  const routeSource: (string | number)[][] = [];
  let splitSource: (string | number)[] = ["spec", "rules"];
  const routes: unknown[] = [];
  let split: unknown;
  spec.rules.forEach((rule, i) => {
    const targets = rule.backendRefs.map((b, j) => {
      if (!b.name.startsWith(`${service}-`))
        issues.push({ path: ["spec", "rules", i, "backendRefs", j, "name"], message: `expected ${service}-<version>` });
      return { version: b.name.slice(service.length + 1), weight: b.weight };
    });
    const to = targets.length === 1 ? { version: targets[0].version } : { split: targets };
    if (!rule.matches || rule.matches.length === 0) {
      if (split !== undefined) issues.push({ path: ["spec", "rules", i], message: "only one rule may be without matches (the default split)" });
      split = targets.length === 1 ? [{ version: targets[0].version, weight: 100 }] : targets;
      splitSource = ["spec", "rules", i, "backendRefs"];
      return;
    }
    rule.matches.forEach((m, j) => {
      routeSource.push(["spec", "rules", i, "matches", j]);
      const headers = m.headers?.map((h) => ({ name: h.name, value: h.value }));
      const query = m.queryParams?.map((q) => ({ name: q.name, value: q.value }));
      const pathKey = m.path?.type === "Exact" ? "pathExact" : m.path?.type === "RegularExpression" ? "pathRegex" : "pathPrefix";
      // Only the conditions given (a key holding undefined would read as a condition in a diff).
      const match = Object.fromEntries(
        Object.entries({ [pathKey]: m.path?.value, method: m.method, headers, query }).filter(([, v]) => v !== undefined),
      );
      routes.push({ name: `${parsed.data.metadata.name}-${i}-${j}`.slice(0, 64), match, ...to });
    });
  });
  if (issues.length > 0) return { ok: false, issues };
  const sourceOf = (p: (string | number)[]) =>
    p[0] === "routes" && typeof p[1] === "number" ? (routeSource[p[1]] ?? ["spec"]) : p[0] === "split" ? splitSource : ["spec"];
  return { ok: true, value: { service, policy: { routes, split }, sourceOf } };
}

/**
 * The mesh configuration model as the console pushes it: a snapshot is a full, self-contained desired state for one
 * agent (its own service plus every service it may call, with their endpoints and policies).
 */
import { z } from "zod";
import { hostPortSchema, serviceNameSchema, versionSchema } from "./names.ts";

export const endpointSchema = z.object({
  /** Address of the instance's inbound listener, `host:port`. */
  address: hostPortSchema,
  version: versionSchema,
  instanceId: z.string().min(1).max(128),
});
export type Endpoint = z.infer<typeof endpointSchema>;

export const splitEntrySchema = z.object({
  version: versionSchema,
  weight: z.number().int().min(0).max(100),
});
export type SplitEntry = z.infer<typeof splitEntrySchema>;

/** Weighted split across a service's versions; when present the weights sum to 100. */
export const trafficSplitSchema = z
  .array(splitEntrySchema)
  .min(1)
  .superRefine((entries, ctx) => {
    const sum = entries.reduce((s, e) => s + e.weight, 0);
    if (sum !== 100) ctx.addIssue({ code: "custom", message: `weights must sum to 100 (got ${sum})` });
    const seen = new Set<string>();
    for (const e of entries) {
      if (seen.has(e.version)) ctx.addIssue({ code: "custom", message: `version ${e.version} appears twice` });
      seen.add(e.version);
    }
  });

export const loadBalancerSchema = z.enum(["p2c", "round-robin", "least-request"]);
export type LoadBalancer = z.infer<typeof loadBalancerSchema>;

export const mtlsModeSchema = z.enum(["STRICT", "PERMISSIVE", "DISABLE"]);
export type MtlsMode = z.infer<typeof mtlsModeSchema>;

/**
 * One allow rule of a service's authorization policy: callers whose identity is listed (SPIFFE ids, or "*" for any
 * authenticated caller), optionally only for some methods and path prefixes.
 */
export const authzRuleSchema = z.object({
  principals: z.array(z.string().min(1).max(512)).min(1).max(256),
  methods: z
    .array(z.string().regex(/^[A-Z]{1,16}$/))
    .max(16)
    .default([]),
  paths: z.array(z.string().startsWith("/").max(512)).max(64).default([]),
});
export type AuthzRule = z.infer<typeof authzRuleSchema>;

/** Absent: every caller is allowed. Present: only calls matching one rule are (an empty list denies everything). */
export const authorizationSchema = z.object({ rules: z.array(authzRuleSchema).max(256) });
export type Authorization = z.infer<typeof authorizationSchema>;

export function spiffeIdOf(trustDomain: string, service: string): string {
  return `spiffe://${trustDomain}/service/${service}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Traffic policies (issue 3). The SAME schemas validate what an operator submits in the console (before anything is
// stored or pushed) and what an agent receives in a snapshot. Policy objects are strict: a field an agent does not
// know is an error (NACK with the field's name), never silently ignored.

/** An exact header match (name case-insensitive, value case-sensitive). */
export const headerMatchSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name")
      .transform((n) => n.toLowerCase()),
    value: z.string().max(1024),
  })
  .strict();

/** An exact query parameter match (name and value case-sensitive, after percent-decoding, as Istio's `queryParams`). */
export const queryMatchSchema = z.object({ name: z.string().min(1).max(128), value: z.string().max(1024) }).strict();

/**
 * A path regex (ECMAScript syntax) matched against the whole path, query excluded (as Gateway API's
 * `RegularExpression`). Kept short: an operator's regex runs on every request of the service.
 */
export const pathRegexSchema = z
  .string()
  .min(1)
  .max(256)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: `not a valid regular expression (${(e as Error).message})` });
    }
  });

/** Anchors `source` so that it matches the whole path, as the agent applies it. */
export function compilePathRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

export const routeMatchSchema = z
  .object({
    /** Matched by whole segments: `/api` matches `/api`, `/api/x` and `/api?q`, not `/apikeys`. */
    pathPrefix: z.string().startsWith("/", "must start with /").max(1024).optional(),
    /** The path exactly (query excluded): `/api` matches `/api` and `/api?q`, not `/api/x`. */
    pathExact: z.string().startsWith("/", "must start with /").max(1024).optional(),
    pathRegex: pathRegexSchema.optional(),
    /** The request method (upper case). */
    method: z
      .string()
      .regex(/^[A-Z]{1,16}$/, "must be an HTTP method in upper case (GET, POST, …)")
      .optional(),
    headers: z.array(headerMatchSchema).max(16).optional(),
    /** Every listed query parameter must be present with that value. */
    query: z.array(queryMatchSchema).max(16).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const paths = (["pathPrefix", "pathExact", "pathRegex"] as const).filter((k) => m[k] !== undefined);
    if (paths.length > 1)
      ctx.addIssue({ code: "custom", path: [paths[1]], message: `use one of pathPrefix, pathExact or pathRegex (got ${paths.join(" and ")})` });
  });
export type RouteMatch = z.infer<typeof routeMatchSchema>;

/**
 * Traffic mirroring (shadowing), as Istio's `mirror` + `mirrorPercentage`: a copy of `percent` % of the calls goes to
 * `version` of the same service, fire and forget — its answer is discarded and it never slows or fails the call.
 * The copy's Host is marked as a shadow (`payments` → `payments-shadow`) and carries `x-trellis-mirror: 1`. Only
 * calls whose body, if any, is at most 64 KiB are copied (the copy needs the body kept in memory).
 */
export const mirrorPolicySchema = z
  .object({
    version: versionSchema,
    percent: z.number().min(0).max(100),
  })
  .strict();
export type MirrorPolicy = z.infer<typeof mirrorPolicySchema>;

/** Header that marks a mirrored copy (with the `-shadow` Host). */
export const MIRROR_HEADER = "x-trellis-mirror";

/** A route: requests matching every given condition go to `version`, or are split by `split`. */
export const routeRuleSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    match: routeMatchSchema.default({}),
    version: versionSchema.optional(),
    split: trafficSplitSchema.optional(),
    /** Mirror this route's calls (instead of the service's own `mirror`). */
    mirror: mirrorPolicySchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.version === undefined) === (r.split === undefined))
      ctx.addIssue({ code: "custom", path: ["version"], message: "a route needs exactly one of version or split" });
  });
export type RouteRule = z.infer<typeof routeRuleSchema>;

/**
 * When a failed attempt is retried. HTTP: `5xx`, `gateway-error` (502/503/504), `connect-failure`, `reset`,
 * `retriable-4xx` (409). gRPC (Envoy's names), by the `grpc-status` of a trailers-only answer behind HTTP 200:
 * `cancelled` (1), `deadline-exceeded` (4), `resource-exhausted` (8), `internal` (13), `unavailable` (14).
 */
export const RETRY_ON = [
  "5xx",
  "gateway-error",
  "connect-failure",
  "reset",
  "retriable-4xx",
  "cancelled",
  "deadline-exceeded",
  "resource-exhausted",
  "internal",
  "unavailable",
] as const;
export const retryOnSchema = z.enum(RETRY_ON);
export type RetryOn = z.infer<typeof retryOnSchema>;

/**
 * Retries (re-dispatched by the agent; only idempotent methods unless `nonIdempotent`, and only requests whose body,
 * if any, is at most 64 KiB — kept for the retry, as Linkerd does; larger bodies stream through and are never retried). The budget (as Linkerd/Finagle) caps retries at `ratio` of recent requests plus
 * `minRetriesPerSecond`, over a 10 s window, so that retries cannot multiply load in an outage.
 */
export const retryPolicySchema = z
  .object({
    /** Retries after the first attempt (0 = none). */
    attempts: z.number().int().min(0).max(10),
    /** Each attempt's time limit until the response starts; 0 = only the request timeout applies. */
    perTryTimeoutMs: z.number().int().min(0).max(600_000).default(0),
    retryOn: z.array(retryOnSchema).min(1).default(["5xx", "connect-failure", "reset"]),
    nonIdempotent: z.boolean().default(false),
    budget: z
      .object({
        ratio: z.number().min(0).max(10).default(0.2),
        minRetriesPerSecond: z.number().int().min(0).max(10_000).default(10),
      })
      .strict()
      .default({ ratio: 0.2, minRetriesPerSecond: 10 }),
  })
  .strict();
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** Circuit breaking (per agent, per destination endpoint): beyond these limits calls fail fast with `circuit-open`. */
export const circuitBreakerSchema = z
  .object({
    /** Connections the agent opens to one endpoint. */
    maxConnections: z.number().int().min(1).max(100_000).default(1024),
    /** Requests waiting for a connection to one endpoint (beyond maxConnections in flight). */
    maxPendingRequests: z.number().int().min(0).max(100_000).default(1024),
    /** Requests in flight to the whole service from this agent. */
    maxRequests: z.number().int().min(1).max(100_000).default(1024),
  })
  .strict();
export type CircuitBreaker = z.infer<typeof circuitBreakerSchema>;

/** Outlier detection: consecutive failures of one endpoint eject it for a growing time. */
export const outlierDetectionSchema = z
  .object({
    /** Consecutive 5xx (upstream or gateway) answers that eject an endpoint; 0 disables. */
    consecutive5xx: z.number().int().min(0).max(1000).default(5),
    /** Consecutive gateway errors (502/503/504, reset, per-try timeout) that eject; 0 disables. */
    consecutiveGatewayErrors: z.number().int().min(0).max(1000).default(0),
    /** Each interval an endpoint spends back in service lowers its ejection multiplier by one. */
    intervalMs: z.number().int().min(100).max(600_000).default(10_000),
    /** Ejection time = base × (times ejected recently), capped by maxEjectionTimeMs. */
    baseEjectionTimeMs: z.number().int().min(1).max(3_600_000).default(30_000),
    maxEjectionTimeMs: z.number().int().min(1).max(3_600_000).default(300_000),
    /** At most this share of a service's endpoints is ejected at once (one endpoint always may be). */
    maxEjectionPercent: z.number().int().min(0).max(100).default(50),
  })
  .strict();
export type OutlierDetection = z.infer<typeof outlierDetectionSchema>;

/** Fault injection for resilience testing: delay and/or abort a percentage of calls to the service. */
export const faultInjectionSchema = z
  .object({
    delay: z
      .object({ percent: z.number().min(0).max(100), ms: z.number().int().min(0).max(600_000) })
      .strict()
      .optional(),
    abort: z
      .object({ percent: z.number().min(0).max(100), status: z.number().int().min(400).max(599) })
      .strict()
      .optional(),
  })
  .strict();
export type FaultInjection = z.infer<typeof faultInjectionSchema>;

/**
 * Everything an operator sets for one service. As console input every field is optional (absent = the default);
 * the snapshot carries the same fields per service.
 */
export const servicePolicyShape = {
  /** Weighted split across the service's versions; absent means "balance over all endpoints". */
  split: trafficSplitSchema.optional(),
  /** Evaluated in order ahead of the split; the first match wins. */
  routes: z.array(routeRuleSchema).max(64).optional(),
  /** Time to the response head for calls to this service, milliseconds; 0 disables (streams run on). */
  timeoutMs: z.number().int().nonnegative().max(600_000).optional(),
  /**
   * Idle timeout for streams, milliseconds: a response body (server-sent events, a download) or a tunnel (WebSocket)
   * that moves nothing for this long is cut. Absent or 0: none of the mesh's own (the route timeout bounds only the
   * time to the response head).
   */
  idleTimeoutMs: z.number().int().nonnegative().max(3_600_000).optional(),
  loadBalancer: loadBalancerSchema.optional(),
  retries: retryPolicySchema.optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
  faultInjection: faultInjectionSchema.optional(),
  /** Mirror a share of the calls to another version (a route's own `mirror` takes precedence for its calls). */
  mirror: mirrorPolicySchema.optional(),
};

export const servicePolicySchema = z.object(servicePolicyShape).strict();
export type ServicePolicy = z.infer<typeof servicePolicySchema>;
export type ServicePolicyInput = z.input<typeof servicePolicySchema>;

export const DEFAULT_TIMEOUT_MS = 15_000;

/** Versions a policy names (split, routes): each must be a known version of the service. */
export function policyVersionIssues(
  policy: {
    split?: { version: string }[];
    routes?: { version?: string; split?: { version: string }[]; mirror?: { version: string } }[];
    mirror?: { version: string };
  },
  versions: readonly string[],
  service: string,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const known = new Set(versions);
  policy.split?.forEach((e, j) => {
    if (!known.has(e.version)) issues.push({ path: ["split", j, "version"], message: `unknown version ${e.version} of ${service}` });
  });
  policy.routes?.forEach((r, i) => {
    if (r.version !== undefined && !known.has(r.version))
      issues.push({ path: ["routes", i, "version"], message: `unknown version ${r.version} of ${service}` });
    r.split?.forEach((e, j) => {
      if (!known.has(e.version)) issues.push({ path: ["routes", i, "split", j, "version"], message: `unknown version ${e.version} of ${service}` });
    });
    if (r.mirror !== undefined && !known.has(r.mirror.version))
      issues.push({ path: ["routes", i, "mirror", "version"], message: `unknown version ${r.mirror.version} of ${service}` });
  });
  if (policy.mirror !== undefined && !known.has(policy.mirror.version))
    issues.push({ path: ["mirror", "version"], message: `unknown version ${policy.mirror.version} of ${service}` });
  return issues;
}

export const serviceConfigSchema = z.object({
  name: serviceNameSchema,
  /** Versions known for this service (subset labels). */
  versions: z.array(versionSchema),
  /** Live endpoints of this service. */
  endpoints: z.array(endpointSchema),
  ...servicePolicyShape,
  loadBalancer: loadBalancerSchema.default("p2c"),
  /** How this service's inbound listener accepts connections. */
  mtls: mtlsModeSchema.default("DISABLE"),
  /** Who may call this service (enforced by its own agents' inbound listener). */
  authorization: authorizationSchema.optional(),
  /** Time to the response head for calls to this service, milliseconds; 0 disables. */
  timeoutMs: z.number().int().nonnegative().max(600_000).default(DEFAULT_TIMEOUT_MS),
});
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
export type ServiceConfigInput = z.input<typeof serviceConfigSchema>;

export const telemetrySettingsSchema = z.object({
  /** How often the agent sends a telemetry frame. */
  intervalMs: z.number().int().min(100).max(60_000).default(1000),
  /** Head sampling rate for spans, 0..1 (decided where a trace starts; the sampled flag travels in traceparent). */
  sampleRate: z.number().min(0).max(1).default(0.01),
  /** Tail rule: a span slower than this is always kept (errors always are). Default for services not listed below. */
  slowThresholdMs: z.number().int().min(1).max(600_000).default(1000),
  /** Per-service slow thresholds (the destination's for client spans, the agent's own for server spans). */
  slowThresholdMsByService: z.record(z.string(), z.number().int().min(1).max(600_000)).default({}),
});
export type TelemetrySettings = z.infer<typeof telemetrySettingsSchema>;

export const meshSnapshotSchema = z
  .object({
    /** Monotonically increasing config version. */
    version: z.number().int().nonnegative(),
    /** The service this snapshot was cut for. */
    service: serviceNameSchema,
    trustDomain: z.string().min(1).default("trellis.local"),
    /** Every service this agent may call (and its own). */
    services: z.array(serviceConfigSchema),
    telemetry: telemetrySettingsSchema.default({ intervalMs: 1000, sampleRate: 0.01, slowThresholdMs: 1000, slowThresholdMsByService: {} }),
    issuedAt: z.string().datetime(),
  })
  .superRefine((snap, ctx) => {
    const names = new Set<string>();
    snap.services.forEach((svc, i) => {
      if (names.has(svc.name)) ctx.addIssue({ code: "custom", path: ["services", i, "name"], message: `duplicate service ${svc.name}` });
      names.add(svc.name);
      for (const issue of policyVersionIssues(svc, svc.versions, svc.name))
        ctx.addIssue({ code: "custom", path: ["services", i, ...issue.path], message: issue.message });
    });
  });
export type MeshSnapshot = z.infer<typeof meshSnapshotSchema>;
export type MeshSnapshotInput = z.input<typeof meshSnapshotSchema>;

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
  methods: z.array(z.string().regex(/^[A-Z]{1,16}$/)).max(16).default([]),
  paths: z.array(z.string().startsWith("/").max(512)).max(64).default([]),
});
export type AuthzRule = z.infer<typeof authzRuleSchema>;

/** Absent: every caller is allowed. Present: only calls matching one rule are (an empty list denies everything). */
export const authorizationSchema = z.object({ rules: z.array(authzRuleSchema).max(256) });
export type Authorization = z.infer<typeof authorizationSchema>;

export function spiffeIdOf(trustDomain: string, service: string): string {
  return `spiffe://${trustDomain}/service/${service}`;
}

export const serviceConfigSchema = z.object({
  name: serviceNameSchema,
  /** Versions known for this service (subset labels). */
  versions: z.array(versionSchema),
  /** Live endpoints of this service. */
  endpoints: z.array(endpointSchema),
  /** Optional weighted split; absent means "balance over all endpoints". */
  split: trafficSplitSchema.optional(),
  loadBalancer: loadBalancerSchema.default("p2c"),
  /** How this service's inbound listener accepts connections. */
  mtls: mtlsModeSchema.default("DISABLE"),
  /** Who may call this service (enforced by its own agents' inbound listener). */
  authorization: authorizationSchema.optional(),
  /** Request timeout for calls to this service, milliseconds; 0 disables. */
  timeoutMs: z.number().int().nonnegative().max(600_000).default(15_000),
});
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;
export type ServiceConfigInput = z.input<typeof serviceConfigSchema>;

export const telemetrySettingsSchema = z.object({
  /** How often the agent sends a telemetry frame. */
  intervalMs: z.number().int().min(100).max(60_000).default(1000),
  /** Head sampling rate for spans, 0..1. */
  sampleRate: z.number().min(0).max(1).default(0.01),
});

export const meshSnapshotSchema = z
  .object({
    /** Monotonically increasing config version. */
    version: z.number().int().nonnegative(),
    /** The service this snapshot was cut for. */
    service: serviceNameSchema,
    trustDomain: z.string().min(1).default("trellis.local"),
    /** Every service this agent may call (and its own). */
    services: z.array(serviceConfigSchema),
    telemetry: telemetrySettingsSchema.default({ intervalMs: 1000, sampleRate: 0.01 }),
    issuedAt: z.string().datetime(),
  })
  .superRefine((snap, ctx) => {
    const names = new Set<string>();
    snap.services.forEach((svc, i) => {
      if (names.has(svc.name)) ctx.addIssue({ code: "custom", path: ["services", i, "name"], message: `duplicate service ${svc.name}` });
      names.add(svc.name);
      svc.split?.forEach((entry, j) => {
        if (!svc.versions.includes(entry.version))
          ctx.addIssue({
            code: "custom",
            path: ["services", i, "split", j, "version"],
            message: `unknown version ${entry.version} of ${svc.name}`,
          });
      });
    });
  });
export type MeshSnapshot = z.infer<typeof meshSnapshotSchema>;
export type MeshSnapshotInput = z.input<typeof meshSnapshotSchema>;

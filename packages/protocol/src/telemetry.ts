/** What agents report about the traffic they carried: per-edge stats for one window, plus sampled spans. */
import { z } from "zod";
import { histogramSchema } from "./histogram.ts";

export const statusClassSchema = z.enum(["1xx", "2xx", "3xx", "4xx", "5xx"]);
export type StatusClass = z.infer<typeof statusClassSchema>;

export function statusClassOf(status: number): StatusClass {
  if (status >= 500) return "5xx";
  if (status >= 400) return "4xx";
  if (status >= 300) return "3xx";
  if (status >= 200) return "2xx";
  return "1xx";
}

/** Stats for one edge (caller service@version -> callee service@version, status class) over one window. */
export const edgeStatsSchema = z.object({
  source: z.string().min(1).max(63),
  sourceVersion: z.string().min(1).max(63),
  destination: z.string().min(1).max(63),
  destinationVersion: z.string().min(1).max(63),
  statusClass: statusClassSchema,
  requests: z.number().int().nonnegative(),
  /** Failed calls: 5xx responses and proxy-made failures. */
  errors: z.number().int().nonnegative(),
  bytesIn: z.number().int().nonnegative(),
  bytesOut: z.number().int().nonnegative(),
  /** Calls that ran over mTLS. */
  mtls: z.number().int().nonnegative().default(0),
  /**
   * Of `requests`, the mirrored copies (traffic mirroring: fire and forget, answers discarded); absent = none. The
   * caller's agent reports them as calls to the mirror's version, apart from the calls it answered.
   */
  mirrored: z.number().int().nonnegative().optional(),
  latency: histogramSchema,
  /**
   * Tunnels (HTTP/1.1 upgrades such as WebSockets), on the 1xx record: opened and closed in the window, open at its
   * end, and the closed ones' total duration. Their bytes count in bytesIn/bytesOut when they close; their 101 counts
   * as a request (latency = the handshake) when they close.
   */
  connectionsOpened: z.number().int().nonnegative().optional(),
  connectionsOpen: z.number().int().nonnegative().optional(),
  connectionsClosed: z.number().int().nonnegative().optional(),
  connectionMs: z.number().int().nonnegative().optional(),
  /**
   * gRPC calls among `requests`, by gRPC status code (`"0"` OK … `"16"`): the outcome a gRPC call carries in its
   * trailers behind an HTTP 200. Failures among them (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
   * UNAVAILABLE, DATA_LOSS) count in `errors`. Absent when the window had no gRPC call.
   */
  grpcStatus: z.record(z.string().regex(/^\d{1,2}$/), z.number().int().nonnegative()).optional(),
});
export type EdgeStats = z.infer<typeof edgeStatsSchema>;

/**
 * gRPC status codes that count as failures (in `errors`): the ones gRPC's own HTTP mapping puts in 5xx — UNKNOWN,
 * DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. The others are the application's answers.
 */
export const GRPC_FAILURE_CODES: readonly number[] = [2, 4, 12, 13, 14, 15];

export function isGrpcFailureCode(code: number): boolean {
  return GRPC_FAILURE_CODES.includes(code);
}

/** Something that happened during a span: an upstream attempt (`name: "attempt"`), with its own attributes. */
export const spanEventSchema = z.object({
  name: z.string().max(64),
  timeUnixMs: z.number(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export type SpanEvent = z.infer<typeof spanEventSchema>;

/**
 * One hop of a request as an agent saw it: a `client` span (outbound listener, the caller's side) or a `server` span
 * (inbound listener). Ids are W3C trace-context hex. Each upstream attempt is an `attempt` event (attributes
 * `attempt`, `endpoint`, `durationMs`, `status` or `error`), so retries show inside the span.
 */
export const spanSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  spanId: z.string().regex(/^[0-9a-f]{16}$/),
  parentSpanId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .optional(),
  kind: z.enum(["client", "server"]),
  service: z.string(),
  version: z.string(),
  peerService: z.string().optional(),
  name: z.string().max(256),
  startTimeUnixMs: z.number(),
  durationMs: z.number().nonnegative(),
  status: z.number().int(),
  error: z.string().optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  events: z.array(spanEventSchema).max(32).default([]),
});
export type Span = z.infer<typeof spanSchema>;

export const telemetryWindowSchema = z.object({
  /** Window start, unix ms. */
  windowStart: z.number().int(),
  windowMs: z.number().int().positive(),
  edges: z.array(edgeStatsSchema).max(10_000),
  spans: z.array(spanSchema).max(1_000).default([]),
  /** Calls this agent's inbound listener denied (authorization), per destination service and caller identity. */
  denials: z
    .array(z.object({ destination: z.string().min(1).max(63), principal: z.string().max(512), count: z.number().int().positive() }))
    .max(1_000)
    .default([]),
});
export type TelemetryWindow = z.infer<typeof telemetryWindowSchema>;
export type TelemetryWindowInput = z.input<typeof telemetryWindowSchema>;

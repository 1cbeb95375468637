/**
 * Frames on the agent <-> console websocket (`/ws/agents`). Every frame is JSON validated here on both ends; an
 * invalid frame is answered with an `error` frame and never trusted.
 */
import { z } from "zod";
import { meshSnapshotSchema } from "./config.ts";
import { hostPortSchema, serviceNameSchema, versionSchema } from "./names.ts";
import { telemetryWindowSchema } from "./telemetry.ts";
import { trustFrameSchema, trustStatusFrameSchema } from "./trust.ts";

export const PROTOCOL_VERSION = 1;

export const helloFrameSchema = z.object({
  type: z.literal("hello"),
  protocol: z.literal(PROTOCOL_VERSION),
  token: z.string().max(512),
  service: serviceNameSchema,
  version: versionSchema,
  instanceId: z.string().min(1).max(128),
  /** Where other agents reach this instance's inbound listener. */
  inboundAddress: hostPortSchema,
  ports: z.object({
    inbound: z.number().int().min(0).max(65535),
    outbound: z.number().int().min(0).max(65535),
    admin: z.number().int().min(0).max(65535),
    app: z.number().int().min(0).max(65535),
  }),
  agentVersion: z.string().max(64),
  /** Config version the agent already holds (0 = none). */
  configVersion: z.number().int().nonnegative(),
});
export type HelloFrame = z.infer<typeof helloFrameSchema>;

export const snapshotFrameSchema = z.object({
  type: z.literal("snapshot"),
  version: z.number().int().nonnegative(),
  nonce: z.string().min(1).max(64),
  /** Validated by the agent when it applies it, so that an unapplicable snapshot is NACKed rather than dropped. */
  snapshot: z.unknown(),
});
export type SnapshotFrame = z.infer<typeof snapshotFrameSchema>;

export const ackFrameSchema = z.object({
  type: z.literal("ack"),
  version: z.number().int().nonnegative(),
  nonce: z.string().min(1).max(64),
});
export type AckFrame = z.infer<typeof ackFrameSchema>;

export const nackFrameSchema = z.object({
  type: z.literal("nack"),
  version: z.number().int().nonnegative(),
  nonce: z.string().min(1).max(64),
  error: z.string().max(4096),
});
export type NackFrame = z.infer<typeof nackFrameSchema>;

export const telemetryFrameSchema = z.object({
  type: z.literal("telemetry"),
  window: telemetryWindowSchema,
});
export type TelemetryFrame = z.infer<typeof telemetryFrameSchema>;

/** Agent → console: a PKCS#10 certificate signing request for this agent's own key (sent after hello, and to renew). */
export const csrFrameSchema = z.object({
  type: z.literal("csr"),
  /** PEM (`-----BEGIN CERTIFICATE REQUEST-----`). The console ignores the requested subject: the identity comes from
   * the authenticated hello (`spiffe://<trust-domain>/service/<service>`). */
  csr: z.string().min(1).max(16_384),
});
export type CsrFrame = z.infer<typeof csrFrameSchema>;

/** Console → agent: the issued certificate (leaf first, PEM), the mesh CA bundle to trust, and its lifetime. */
export const certificateFrameSchema = z.object({
  type: z.literal("certificate"),
  chain: z.string().min(1).max(65_536),
  caBundle: z.string().min(1).max(65_536),
  spiffeId: z.string().min(1).max(512),
  notBefore: z.string().datetime(),
  notAfter: z.string().datetime(),
});
export type CertificateFrame = z.infer<typeof certificateFrameSchema>;

export const errorFrameSchema = z.object({
  type: z.literal("error"),
  code: z.string().max(64),
  message: z.string().max(4096),
  /** Whether the console will close the socket after this frame. */
  fatal: z.boolean().default(false),
});
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

/** Frames an agent sends. */
export const agentFrameSchema = z.discriminatedUnion("type", [
  helloFrameSchema,
  ackFrameSchema,
  nackFrameSchema,
  telemetryFrameSchema,
  csrFrameSchema,
  trustStatusFrameSchema,
]);
export type AgentFrame = z.infer<typeof agentFrameSchema>;

/** Frames the console sends to an agent. */
export const consoleFrameSchema = z.discriminatedUnion("type", [snapshotFrameSchema, certificateFrameSchema, errorFrameSchema, trustFrameSchema]);
export type ConsoleFrame = z.infer<typeof consoleFrameSchema>;

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; error: string };

function parseWith<T>(schema: z.ZodType<T>, raw: string | Buffer): ParseResult<T> {
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return { ok: false, error: "frame is not valid JSON" };
  }
  const result = schema.safeParse(data);
  if (!result.success) return { ok: false, error: formatIssues(result.error) };
  return { ok: true, frame: result.data };
}

export function parseAgentFrame(raw: string | Buffer): ParseResult<AgentFrame> {
  return parseWith(agentFrameSchema, raw);
}

export function parseConsoleFrame(raw: string | Buffer): ParseResult<ConsoleFrame> {
  return parseWith(consoleFrameSchema, raw);
}

/** "services.0.split.1.version: unknown version v9 of payments; …" — names the field of each problem. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

export { meshSnapshotSchema };

/**
 * The mesh's trust bundle on the control link (CA rotation, DESIGN.md "Security"):
 * - `trust` (console → agent): every root the mesh trusts now (PEM, one or more) and the root the console issues
 *   certificates under. An agent trusts every root of the bundle for client and server verification, and asks for a
 *   new certificate at once when the one it holds does not chain to `issuerRoot`.
 * - `trust-status` (agent → console): what the agent holds after applying it (sent on every change): the roots it
 *   trusts and the root its certificate chains to. Roots are named by SHA-256 fingerprint, as node's
 *   `X509Certificate.fingerprint256` prints it (`AB:CD:…`).
 */
import { z } from "zod";

export const fingerprintSchema = z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, "a SHA-256 fingerprint (AB:CD:…)");

export const trustFrameSchema = z.object({
  type: z.literal("trust"),
  /** Increases with every change of the bundle or issuer; echoed in `trust-status`. */
  generation: z.number().int().nonnegative(),
  bundle: z.string().min(1).max(262_144),
  issuerRoot: fingerprintSchema,
});
export type TrustFrame = z.infer<typeof trustFrameSchema>;

export const trustStatusFrameSchema = z.object({
  type: z.literal("trust-status"),
  /** The generation of the last `trust` frame applied (0 = none yet). */
  generation: z.number().int().nonnegative(),
  roots: z.array(fingerprintSchema).max(32),
  /** null while the agent holds no certificate (or one that chains to no root it trusts). */
  certificateRoot: fingerprintSchema.nullable(),
});
export type TrustStatusFrame = z.infer<typeof trustStatusFrameSchema>;

/** The certificates of a PEM text, each as its own PEM block. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((b) => `${b}\n`) ?? [];
}

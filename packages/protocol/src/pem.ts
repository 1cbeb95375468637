/** PEM text, as the `csr` and `certificate` frames carry it: DER <-> base64 lines between BEGIN/END markers. */
import { createHash, X509Certificate } from "node:crypto";

export function derToPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der))
    .toString("base64")
    .replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}

/** The DER bytes of the first block of a PEM text. */
export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/**
 * The pin of a CA certificate (PEM or DER), as agents take it with `--console-ca-hash`: `sha256:<hex>` of its
 * SubjectPublicKeyInfo (kubeadm's `--discovery-token-ca-cert-hash` format).
 */
export function caCertPin(cert: string | Uint8Array): string {
  const x = new X509Certificate(typeof cert === "string" ? cert : Buffer.from(cert));
  const spki = x.publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

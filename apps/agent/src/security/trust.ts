/**
 * The mesh trust bundle as this agent reads it: its roots by SHA-256 fingerprint, and which of them a certificate
 * chain leads to (the chain's last certificate is the root itself or is signed by it). Pure, no state.
 */
import { X509Certificate } from "node:crypto";
import { splitPemCertificates } from "@trellis/protocol";

function certificates(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const block of splitPemCertificates(pem)) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      /* an unreadable block names no root */
    }
  }
  return out;
}

/** Fingerprints of the roots of a PEM bundle, in bundle order. */
export function rootFingerprints(bundle: string): string[] {
  return certificates(bundle).map((c) => c.fingerprint256);
}

/** The fingerprint of the root in `bundle` that `chainPem` (leaf first) chains to, or null. */
export function chainRoot(chainPem: string, bundle: string): string | null {
  const chain = certificates(chainPem);
  const top = chain[chain.length - 1];
  if (top === undefined) return null;
  for (const root of certificates(bundle)) {
    if (root.fingerprint256 === top.fingerprint256) return root.fingerprint256;
    if (top.checkIssued(root) && top.verify(root.publicKey)) return root.fingerprint256;
  }
  return null;
}

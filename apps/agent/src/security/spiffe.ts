/** SPIFFE ids from certificates (URI SANs), without loading the X.509 library. */
import type { X509Certificate } from "node:crypto";

/** The first `URI:spiffe://…` entry of a subjectAltName string (`"URI:spiffe://td/service/web, DNS:…"`), or null. */
export function spiffeIdOfSan(san: string | undefined | null): string | null {
  if (!san) return null;
  for (const part of san.split(", ")) if (part.startsWith("URI:spiffe://")) return part.slice(4);
  return null;
}

export function spiffeIdOfCert(cert: X509Certificate | undefined | null): string | null {
  return spiffeIdOfSan(cert?.subjectAltName);
}

/**
 * Certificates in `trellis check`: each connected agent's certificate must be valid now and not close to expiry.
 * Agents renew at two thirds of the lifetime, so less than a quarter left means renewal is failing.
 */
export interface CertifiedAgent {
  service: string;
  instanceId: string;
  certificate: { notBefore: string; notAfter: string } | null;
}

/** Why an agent's certificate fails the check, or null when it passes (or the agent has none: no mTLS identity yet). */
export function certificateProblem(a: CertifiedAgent, now = Date.now()): string | null {
  if (!a.certificate) return null;
  const from = Date.parse(a.certificate.notBefore);
  const to = Date.parse(a.certificate.notAfter);
  const who = `${a.service}/${a.instanceId}`;
  if (to <= now) return `${who}: certificate expired at ${a.certificate.notAfter}`;
  if (from > now) return `${who}: certificate not valid before ${a.certificate.notBefore}`;
  if (to - now < (to - from) / 4) return `${who}: certificate close to expiry (${a.certificate.notAfter}; renewal overdue)`;
  return null;
}

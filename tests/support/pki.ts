/**
 * Certificates for tests that play a client of an inbound listener: a key + CSR like an agent makes, signed by the
 * console's real CA (read from its data dir, as an attacker with the CA key could) or by a foreign CA.
 */
import https from "node:https";
import { createKeyAndCsr } from "../../apps/agent/src/security/csr.ts";
import { CertificateAuthority } from "../../apps/web/server/security/ca.ts";

export interface ClientCert {
  key: string;
  cert: string;
  ca: string;
}

export async function openCa(dataDir: string, ttlSeconds = 3600): Promise<CertificateAuthority> {
  return (await CertificateAuthority.open(dataDir, "trellis.local", ttlSeconds)).ca;
}

/** A client certificate for `service` issued by `ca` as of `now` (a past `now` with a short TTL gives an expired one). */
export async function issueClientCert(ca: CertificateAuthority, service: string, now = Date.now()): Promise<ClientCert> {
  const { keyPem, csrPem } = await createKeyAndCsr(service);
  const issued = await ca.issue(service, csrPem, now);
  return { key: keyPem, cert: issued.chain, ca: issued.caBundle };
}

/** One HTTPS request to 127.0.0.1:port with a client certificate, trusting `trustCa` (server identity not checked). */
export function tlsRequest(
  port: number,
  path: string,
  client: ClientCert | null,
  trustCa: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string; serverSerial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path,
        key: client?.key,
        cert: client?.cert,
        ca: trustCa,
        agent: false,
        checkServerIdentity: () => undefined,
      },
      (res) => {
        const serverSerial = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().serialNumber;
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, serverSerial }));
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

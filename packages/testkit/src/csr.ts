/**
 * A fresh ECDSA P-256 key and a PKCS#10 CSR, as an agent makes them before it asks the console for its certificate
 * (apps/agent/src/security/csr.ts does the same; the kit does not import the agent).
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A CSR (PEM) for `CN=<service>` signed by a new key; the key is not kept (the kit only checks what comes back). */
export async function createCsr(service: string): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${service}`, keys, signingAlgorithm: ALG });
  return csr.toString("pem");
}

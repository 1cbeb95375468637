/** A fresh ECDSA P-256 key and a CSR for `service`: what an agent sends the console to get (or renew) its identity. */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { derToPem } from "@trellis/protocol";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function createKeyAndCsr(service: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${service}`, keys, signingAlgorithm: ALG });
  return { keyPem: derToPem(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY"), csrPem: csr.toString("pem") };
}

/**
 * A new self-signed mesh root in `dir` (created 0700): an ECDSA P-256 key (`ca.key`, PKCS#8 PEM, mode 0600) and a
 * CA certificate (`ca.crt`, 10 years). Used at first console start and for each CA rotation that generates its root.
 */
import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import { derToPem } from "@trellis/protocol";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const CA_ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CA_YEARS = 10;

export function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  b[0] |= 0x01; // no leading zero byte
  return b.toString("hex");
}

export async function createRoot(dir: string, trustDomain: string, now = Date.now()): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const keys = (await webcrypto.subtle.generateKey(CA_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Trellis mesh CA ${new Date(now).toISOString()} ${randomBytes(3).toString("hex")}, O=${trustDomain}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_YEARS * 365 * 24 * 3600 * 1000),
    signingAlgorithm: CA_ALG,
    keys: keys as unknown as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
    ],
  });
  const keyFile = path.join(dir, "ca.key");
  writeFileSync(keyFile, derToPem(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY"), { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(path.join(dir, "ca.crt"), `${cert.toString("pem")}\n`, { mode: 0o644 });
}

/**
 * An operator-provided intermediate CA (as Istio's plug-in CA): the files `ca-cert.pem` (the intermediate),
 * `ca-key.pem` (its key: PKCS#8 or SEC1 PEM, ECDSA P-256), `cert-chain.pem` (the intermediate's chain, up to the
 * root; may include the intermediate and the root themselves) and `root-cert.pem` (the operator's root, which the mesh
 * will trust). Checked — the key matches, the certificate is a CA, every link of the chain verifies up to the root —
 * and copied into an authority directory (key 0600, directory 0700). The operator's files are never modified.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { splitPemCertificates } from "@trellis/protocol";
import { invalidInput } from "../errors.ts";

export const PLUGIN_FILES = { cert: "ca-cert.pem", key: "ca-key.pem", chain: "cert-chain.pem", root: "root-cert.pem" } as const;

function readFile(dir: string, name: string): string {
  try {
    return readFileSync(path.join(dir, name), "utf8");
  } catch (err) {
    throw invalidInput(`plug-in CA: cannot read ${name} in ${dir}: ${(err as Error).message}`);
  }
}

/** Validates the plug-in files in `srcDir` and writes the authority into `destDir`. */
export function importPluginCa(srcDir: string, destDir: string): void {
  const certPem = splitPemCertificates(readFile(srcDir, PLUGIN_FILES.cert))[0];
  const rootPem = splitPemCertificates(readFile(srcDir, PLUGIN_FILES.root))[0];
  if (!certPem || !rootPem) throw invalidInput(`plug-in CA: ${PLUGIN_FILES.cert} and ${PLUGIN_FILES.root} must each hold a certificate`);
  const cert = new X509Certificate(certPem);
  const root = new X509Certificate(rootPem);
  if (!cert.ca) throw invalidInput(`plug-in CA: ${PLUGIN_FILES.cert} is not a CA certificate`);
  const key = createPrivateKey(readFile(srcDir, PLUGIN_FILES.key));
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw invalidInput("plug-in CA: the key must be ECDSA P-256");
  if (!cert.checkPrivateKey(key)) throw invalidInput(`plug-in CA: ${PLUGIN_FILES.key} does not match ${PLUGIN_FILES.cert}`);
  const skip = new Set([cert.fingerprint256, root.fingerprint256]);
  const intermediates = splitPemCertificates(readFile(srcDir, PLUGIN_FILES.chain))
    .map((p) => new X509Certificate(p))
    .filter((c) => !skip.has(c.fingerprint256));
  // cert → intermediates… → root, each signed by the next.
  const links = [cert, ...intermediates, root];
  for (let i = 0; i + 1 < links.length; i++) {
    if (!links[i].checkIssued(links[i + 1]) || !links[i].verify(links[i + 1].publicKey))
      throw invalidInput(`plug-in CA: ${links[i].subject.replace(/\n/g, ", ")} is not signed by ${links[i + 1].subject.replace(/\n/g, ", ")}`);
  }
  mkdirSync(destDir, { recursive: true, mode: 0o700 });
  chmodSync(destDir, 0o700);
  const keyFile = path.join(destDir, "ca.key");
  writeFileSync(keyFile, key.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(path.join(destDir, "ca.crt"), certPem);
  writeFileSync(path.join(destDir, "chain.pem"), intermediates.map((c) => c.toString()).join(""));
  writeFileSync(path.join(destDir, "root.pem"), rootPem);
}

/**
 * Workload certificates as the console signs them with node:crypto (apps/web/server/security/leaf.ts), checked by
 * software this project did not write: OpenSSL's `verify` and `x509`, node's X509Certificate, @peculiar/x509, and a
 * real mutual-TLS handshake — for the console's own root and for an operator's intermediate (plug-in CA). CSRs that
 * are forged, of another key type, or not CSRs at all are refused.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, webcrypto, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import tls from "node:tls";
import * as x509 from "@peculiar/x509";
import { derToPem, pemToDer } from "@trellis/protocol";
import { createKeyAndCsr } from "../../apps/agent/src/security/csr.ts";
import { CertificateAuthority } from "../../apps/web/server/security/ca.ts";
import { importPluginCa } from "../../apps/web/server/security/plugin-ca.ts";
import { makePluginCa } from "../support/plugin-ca.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const dirs: string[] = [];
const temp = (name: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), `trellis-${name}-`));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** A TLS server with `server`'s identity requiring a client certificate; the client presents `client`'s. */
function mutualTls(server: { key: string; cert: string }, client: { key: string; cert: string }, ca: string): Promise<{ peer: string; san: string }> {
  return new Promise((resolve, reject) => {
    const srv = tls.createServer({ key: server.key, cert: server.cert, ca, requestCert: true, rejectUnauthorized: true }, (s) => {
      const peer = s.getPeerCertificate();
      s.end();
      srv.close();
      resolve({ peer: peer.subject.CN as string, san: peer.subjectaltname ?? "" });
    });
    srv.on("tlsClientError", (e) => {
      srv.close();
      reject(e);
    });
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      const c = tls.connect({ host: "127.0.0.1", port, key: client.key, cert: client.cert, ca, checkServerIdentity: () => undefined });
      c.on("error", reject);
      c.on("data", () => undefined);
    });
  });
}

describe("workload certificates signed with node:crypto", () => {
  test("from the console's root: verified by OpenSSL and node, with the SPIFFE SAN, usages and key id as before", async () => {
    const dir = temp("leaf-ca");
    const { ca } = await CertificateAuthority.open(dir, "trellis.local", 3600);
    const { keyPem, csrPem } = await createKeyAndCsr("checkout");
    const now = Date.now();
    const issued = await ca.issue("checkout", csrPem, now);
    assert.equal(issued.spiffeId, "spiffe://trellis.local/service/checkout");

    const leaf = new X509Certificate(issued.chain);
    const root = new X509Certificate(ca.rootPem);
    assert.ok(leaf.verify(root.publicKey), "signed by the CA's key");
    assert.ok(leaf.checkIssued(root));
    assert.ok(leaf.checkPrivateKey(createPrivateKey(keyPem)), "for the requester's own key");
    assert.equal(leaf.subjectAltName, "URI:spiffe://trellis.local/service/checkout");
    assert.match(leaf.subject, /CN=checkout/);
    assert.match(leaf.subject, /O=trellis.local/);
    assert.equal(leaf.ca, false);
    assert.deepEqual(leaf.keyUsage, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    assert.equal(leaf.serialNumber.toLowerCase(), issued.serial.toLowerCase());
    assert.equal(new Date(leaf.validFrom).getTime(), issued.notBefore.getTime());
    assert.equal(new Date(leaf.validTo).getTime(), issued.notAfter.getTime());
    assert.ok(issued.notBefore.getTime() <= now - 1000 && issued.notAfter.getTime() > now + 3599_000);

    const files = temp("leaf-files");
    writeFileSync(path.join(files, "ca.pem"), ca.rootPem);
    writeFileSync(path.join(files, "leaf.pem"), issued.chain);
    for (const purpose of ["sslclient", "sslserver"])
      assert.match(openssl("verify", "-purpose", purpose, "-CAfile", path.join(files, "ca.pem"), path.join(files, "leaf.pem")), /leaf.pem: OK/);
    const text = openssl("x509", "-in", path.join(files, "leaf.pem"), "-noout", "-text");
    assert.match(text, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/trellis.local\/service\/checkout/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);

    // The authority key identifier is the CA's subject key identifier (both SHA-1 of its public key).
    const parsed = new x509.X509Certificate(issued.chain);
    const aki = parsed.getExtension(x509.AuthorityKeyIdentifierExtension);
    const ski = new x509.X509Certificate(ca.rootPem).getExtension(x509.SubjectKeyIdentifierExtension);
    assert.ok(aki?.keyId && ski?.keyId);
    assert.equal(aki.keyId, ski.keyId);
    assert.equal(aki.keyId, createHash("sha1").update(rawPublicKey(ca.rootPem)).digest("hex"));

    const server = await ca.issue("payments", (await createKeyAndCsr("payments")).csrPem);
    const serverKey = await createKeyAndCsr("payments");
    const serverIssued = await ca.issue("payments", serverKey.csrPem);
    assert.notEqual(server.serial, serverIssued.serial, "every certificate has its own serial");
    const hs = await mutualTls({ key: serverKey.keyPem, cert: serverIssued.chain }, { key: keyPem, cert: issued.chain }, ca.rootPem);
    assert.equal(hs.peer, "checkout");
    assert.equal(hs.san, "URI:spiffe://trellis.local/service/checkout");
  });

  test("from an operator's intermediate: the chain carries the intermediate and verifies to the operator's root", async () => {
    const plugin = temp("plugin-src");
    const { rootPem } = makePluginCa(plugin);
    const dest = temp("plugin-dest");
    importPluginCa(plugin, dest);
    const ca = await CertificateAuthority.load(dest, "trellis.local", 3600);
    const client = await createKeyAndCsr("web");
    const issued = await ca.issue("web", client.csrPem);
    const files = temp("plugin-files");
    writeFileSync(path.join(files, "root.pem"), rootPem);
    writeFileSync(path.join(files, "chain.pem"), issued.chain);
    assert.match(
      openssl("verify", "-CAfile", path.join(files, "root.pem"), "-untrusted", path.join(files, "chain.pem"), path.join(files, "chain.pem")),
      /chain.pem: OK/,
    );
    const serverKey = await createKeyAndCsr("catalog");
    const server = await ca.issue("catalog", serverKey.csrPem);
    const hs = await mutualTls({ key: serverKey.keyPem, cert: server.chain }, { key: client.keyPem, cert: issued.chain }, rootPem);
    assert.equal(hs.san, "URI:spiffe://trellis.local/service/web");
  });

  test("forged, foreign-key and malformed CSRs are refused", async () => {
    const { ca } = await CertificateAuthority.open(temp("leaf-refuse"), "trellis.local", 3600);
    const { csrPem } = await createKeyAndCsr("checkout");
    const der = pemToDer(csrPem);
    der[der.length - 5] ^= 0x01; // inside the signature
    await assert.rejects(ca.issue("checkout", derToPem(der, "CERTIFICATE REQUEST")), /CSR signature does not verify|not a PKCS#10/);
    await assert.rejects(ca.issue("checkout", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), /DER|PKCS#10/);
    await assert.rejects(ca.issue("checkout", "hello"), /DER|PKCS#10|PEM/);
    const rsa = (await webcrypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const rsaCsr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: "CN=checkout",
      keys: rsa,
      signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    });
    await assert.rejects(ca.issue("checkout", rsaCsr.toString("pem")), /ECDSA P-256/);
  });
});

/** The subjectPublicKey bits of a certificate (what the key identifiers hash). */
function rawPublicKey(certPem: string): Buffer {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  // SPKI: SEQUENCE { AlgorithmIdentifier, BIT STRING (0x03 len 0x00 <point>) }; a P-256 point is the last 65 bytes.
  return spki.subarray(spki.length - 65);
}

/**
 * The mesh certificate authority. Created at first console start in `<data>/ca/` (outside anything Next serves): an
 * ECDSA P-256 key (`ca.key`, PKCS#8 PEM, mode 0600, directory 0700) and a self-signed CA certificate (`ca.crt`,
 * 10 years). Issues short-lived workload certificates from agents' CSRs: the CSR's signature proves possession of the
 * key, its requested subject is ignored — the identity is the service of the authenticated `hello`, as the URI SAN
 * `spiffe://<trust-domain>/service/<name>`.
 */
import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import { derToPem, pemToDer, spiffeIdOf } from "@trellis/protocol";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CA_YEARS = 10;

export interface IssuedCertificate {
  chain: string;
  caBundle: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  serial: string;
}

function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  b[0] |= 0x01; // no leading zero byte
  return b.toString("hex");
}

/** The console's own TLS certificate (https/wss), issued by the mesh CA at every start. */
export interface ServerCertificate {
  /** The leaf then the CA certificate, PEM. */
  chain: string;
  keyPem: string;
  notAfter: Date;
}

const SERVER_CERT_DAYS = 365;

export class CertificateAuthority {
  private constructor(
    private readonly key: CryptoKey,
    readonly cert: x509.X509Certificate,
    readonly certPem: string,
    readonly trustDomain: string,
    readonly ttlSeconds: number,
  ) {}

  /** Loads `<dataDir>/ca`, creating it on first start. */
  static async open(dataDir: string, trustDomain: string, ttlSeconds: number): Promise<{ ca: CertificateAuthority; created: boolean }> {
    const dir = path.join(dataDir, "ca");
    const keyFile = path.join(dir, "ca.key");
    const certFile = path.join(dir, "ca.crt");
    let created = false;
    if (!existsSync(keyFile) || !existsSync(certFile)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
      const now = Date.now();
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serialNumber(),
        name: `CN=Trellis mesh CA, O=${trustDomain}`,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + CA_YEARS * 365 * 24 * 3600 * 1000),
        signingAlgorithm: ALG,
        keys: keys as unknown as CryptoKeyPair,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
        ],
      });
      const keyPem = derToPem(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
      writeFileSync(keyFile, keyPem, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
      writeFileSync(certFile, `${cert.toString("pem")}\n`, { mode: 0o644 });
      created = true;
    }
    chmodSync(keyFile, 0o600);
    const keyPem = readFileSync(keyFile, "utf8");
    const certPem = readFileSync(certFile, "utf8");
    const key = await webcrypto.subtle.importKey("pkcs8", pemToDer(keyPem), ALG, false, ["sign"]);
    const cert = new x509.X509Certificate(certPem);
    return { ca: new CertificateAuthority(key as unknown as CryptoKey, cert, `${certPem.trim()}\n`, trustDomain, ttlSeconds), created };
  }

  /**
   * A server certificate for the console itself, for these DNS names and IP addresses (the console's own key, made
   * here). Agents verify it against this CA (`--console-ca <data>/ca/ca.crt`).
   */
  async issueServer(dnsNames: string[], ips: string[], now = Date.now()): Promise<ServerCertificate> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const notAfter = new Date(now + SERVER_CERT_DAYS * 24 * 3600 * 1000);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${dnsNames[0] ?? ips[0] ?? "trellis-console"}, O=${this.trustDomain}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter,
      signingAlgorithm: ALG,
      publicKey: keys.publicKey as unknown as CryptoKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [...dnsNames.map((value) => ({ type: "dns" as const, value })), ...ips.map((value) => ({ type: "ip" as const, value }))],
          false,
        ),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert, false),
      ],
    });
    return {
      chain: `${cert.toString("pem")}\n${this.certPem}`,
      keyPem: derToPem(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY"),
      notAfter,
    };
  }

  /** Signs a workload certificate for `service` from a PEM CSR (whose signature must verify). */
  async issue(service: string, csrPem: string, now = Date.now()): Promise<IssuedCertificate> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error("CSR signature does not verify");
    const spiffeId = spiffeIdOf(this.trustDomain, service);
    // Back-dated a little for clock skew between hosts (at most a tenth of the lifetime).
    const notBefore = new Date(now - Math.min(30_000, this.ttlSeconds * 100));
    const notAfter = new Date(now + this.ttlSeconds * 1000);
    const publicKey = await csr.publicKey.export(ALG, ["verify"]);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${service}, O=${this.trustDomain}`,
      issuer: this.cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALG,
      publicKey: publicKey as unknown as CryptoKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert, false),
      ],
    });
    return {
      chain: `${cert.toString("pem")}\n`,
      caBundle: this.certPem,
      spiffeId,
      notBefore,
      notAfter,
      serial: cert.serialNumber,
    };
  }
}

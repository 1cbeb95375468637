/**
 * A mesh certificate authority: signs short-lived workload certificates from agents' CSRs. The CSR's signature proves
 * possession of the key, its requested subject is ignored — the identity is the service of the authenticated `hello`,
 * as the URI SAN `spiffe://<trust-domain>/service/<name>`.
 *
 * An authority is a directory (mode 0700, outside anything Next serves): `ca.key` (PKCS#8 PEM, 0600) and `ca.crt`;
 * for an operator-provided intermediate (plug-in CA, see plugin-ca.ts) also `chain.pem` (the intermediates above
 * `ca.crt`) and `root.pem` (the operator's root, which the mesh trusts). The first one, `<data>/ca/`, is created at
 * first console start (ca-root.ts); rotations add more (authorities.ts).
 */
import "reflect-metadata";
import { webcrypto, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import { derToPem, pemToDer, spiffeIdOf } from "@trellis/protocol";
import { CA_ALG as ALG, createRoot, serialNumber } from "./ca-root.ts";
import { LeafSigner, parseCsr } from "./leaf.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface IssuedCertificate {
  /** The leaf, then the intermediates up to (not including) the root. */
  chain: string;
  /** This authority's root alone (the control plane sends the mesh's whole trust bundle instead). */
  caBundle: string;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
  serial: string;
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
    /** Certificates a leaf's chain carries after the leaf: empty for a root, `ca.crt` + `chain.pem` for an intermediate. */
    readonly intermediatesPem: string,
    /** The root this authority chains to (its own certificate when it is a root). */
    readonly rootPem: string,
    readonly trustDomain: string,
    readonly ttlSeconds: number,
    /** Signs workload certificates (node:crypto; the key, issuer name and key identifier kept once). */
    private readonly leaves: LeafSigner,
  ) {}

  /** SHA-256 fingerprint of the root (`AB:CD:…`), as agents report it. */
  get rootFingerprint(): string {
    return new X509Certificate(this.rootPem).fingerprint256;
  }

  /** Loads `<dataDir>/ca`, creating a self-signed root there on first start. */
  static async open(dataDir: string, trustDomain: string, ttlSeconds: number): Promise<{ ca: CertificateAuthority; created: boolean }> {
    const dir = path.join(dataDir, "ca");
    const created = !existsSync(path.join(dir, "ca.key")) || !existsSync(path.join(dir, "ca.crt"));
    if (created) await createRoot(dir, trustDomain);
    return { ca: await CertificateAuthority.load(dir, trustDomain, ttlSeconds), created };
  }

  /** Loads the authority kept in `dir` (see the header for its files). */
  static async load(dir: string, trustDomain: string, ttlSeconds: number): Promise<CertificateAuthority> {
    const keyFile = path.join(dir, "ca.key");
    chmodSync(keyFile, 0o600);
    const read = (f: string) => {
      const text = existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), "utf8").trim() : "";
      return text ? `${text}\n` : "";
    };
    const certPem = read("ca.crt");
    const rootPem = read("root.pem") || certPem;
    const intermediates = rootPem === certPem ? "" : certPem + read("chain.pem");
    const keyPem = readFileSync(keyFile, "utf8");
    const key = await webcrypto.subtle.importKey("pkcs8", pemToDer(keyPem), ALG, false, ["sign"]);
    const cert = new x509.X509Certificate(certPem);
    const leaves = new LeafSigner(keyPem, certPem);
    return new CertificateAuthority(key as unknown as CryptoKey, cert, certPem, intermediates, rootPem, trustDomain, ttlSeconds, leaves);
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

  /**
   * Signs a workload certificate for `service` from a PEM CSR (an ECDSA P-256 key; its signature must verify):
   * subject CN=<service>, O=<trust domain>; critical URI SAN with the SPIFFE id; server and client auth.
   */
  async issue(service: string, csrPem: string, now = Date.now()): Promise<IssuedCertificate> {
    const { spki } = parseCsr(csrPem);
    const spiffeId = spiffeIdOf(this.trustDomain, service);
    // Back-dated a little for clock skew between hosts (at most a tenth of the lifetime).
    const notBefore = new Date(Math.floor((now - Math.min(30_000, this.ttlSeconds * 100)) / 1000) * 1000);
    const notAfter = new Date(Math.floor((now + this.ttlSeconds * 1000) / 1000) * 1000);
    const serial = serialNumber();
    const leaf = this.leaves.sign({
      serialHex: serial,
      commonName: service,
      organization: this.trustDomain,
      notBefore,
      notAfter,
      uri: spiffeId,
      spki,
    });
    return {
      chain: `${leaf}${this.intermediatesPem}`,
      caBundle: this.rootPem,
      spiffeId,
      notBefore,
      notAfter,
      serial,
    };
  }
}

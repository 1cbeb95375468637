/**
 * Workload certificates signed with node:crypto. A thousand agents join at once after a console restart, and each
 * needs a certificate: @peculiar/x509's generic ASN.1 (de)serialisation cost ~15 ms of CPU per certificate, so the
 * one certificate shape the console issues to agents is written here directly (der.ts) and signed by OpenSSL.
 *
 * `parseCsr` takes a PKCS#10 request apart and verifies its signature (proof of possession); `LeafSigner` keeps what
 * every certificate of one authority shares (its key, its subject as DER, its key identifier) and signs leaves.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { derToPem, pemToDer } from "@trellis/protocol";
import { bitString, children, content, integerHex, oid, readTlv, seq, slice, TAG, time, tlv } from "./der.ts";

/** Hash of each ECDSA signature algorithm a CSR may be signed with. */
const ECDSA_HASH: Record<string, string> = {
  "2a8648ce3d040302": "sha256",
  "2a8648ce3d040303": "sha384",
  "2a8648ce3d040304": "sha512",
};

export interface ParsedCsr {
  /** The requester's SubjectPublicKeyInfo, DER, exactly as in the request. */
  spki: Buffer;
  publicKey: KeyObject;
}

/** A PEM CSR whose key is ECDSA P-256 (what agents make) and whose signature verifies; throws otherwise. */
export function parseCsr(pem: string): ParsedCsr {
  let der: Uint8Array;
  try {
    der = new Uint8Array(pemToDer(pem));
  } catch {
    throw new Error("not a PEM certificate request");
  }
  const outer = readTlv(der, 0);
  const [info, alg, sig] = children(der, outer);
  if (outer.tag !== TAG.sequence || !info || info.tag !== TAG.sequence || alg?.tag !== TAG.sequence || sig?.tag !== TAG.bitString)
    throw new Error("not a PKCS#10 certificate request");
  const infoParts = children(der, info);
  const spkiTlv = infoParts[2];
  if (!spkiTlv || spkiTlv.tag !== TAG.sequence) throw new Error("certificate request without a public key");
  const spki = slice(der, spkiTlv);
  const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });
  if (publicKey.asymmetricKeyType !== "ec" || publicKey.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new Error("the CSR's key must be ECDSA P-256");
  const algOid = children(der, alg)[0];
  const hash = algOid?.tag === TAG.oid ? ECDSA_HASH[content(der, algOid).toString("hex")] : undefined;
  if (!hash) throw new Error("the CSR must be signed with ECDSA (SHA-256/384/512)");
  const signature = content(der, sig);
  if (signature[0] !== 0) throw new Error("CSR signature is not a whole number of bytes");
  if (!verify(hash, der.subarray(info.start, info.end), { key: publicKey, dsaEncoding: "der" }, signature.subarray(1)))
    throw new Error("CSR signature does not verify");
  return { spki, publicKey };
}

const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const critical = tlv(TAG.boolean, Buffer.from([0xff]));
const ext = (id: string, isCritical: boolean, value: Buffer) => seq(oid(id), ...(isCritical ? [critical] : []), tlv(TAG.octetString, value));
/** basicConstraints (critical, not a CA), keyUsage (critical: digitalSignature, keyEncipherment), EKU server+client. */
const FIXED_EXTENSIONS = Buffer.concat([
  ext("2.5.29.19", true, seq()),
  ext("2.5.29.15", true, tlv(TAG.bitString, Buffer.from([0x05, 0xa0]))),
  ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))),
]);
const utf8Attr = (id: string, value: string) => tlv(TAG.set, seq(oid(id), tlv(TAG.utf8String, Buffer.from(value, "utf8"))));

export interface LeafRequest {
  serialHex: string;
  /** The subject's common name and organisation. */
  commonName: string;
  organization: string;
  notBefore: Date;
  notAfter: Date;
  /** The URI SAN (critical): the SPIFFE id. */
  uri: string;
  spki: Buffer;
}

/** Signs leaf certificates for one authority (ECDSA P-256 key, as every mesh CA here). */
export class LeafSigner {
  private readonly key: KeyObject;
  private readonly issuerName: Buffer;
  private readonly authorityKeyId: Buffer;

  constructor(caKeyPem: string, caCertPem: string) {
    this.key = createPrivateKey(caKeyPem);
    const cert = new Uint8Array(pemToDer(caCertPem));
    const tbs = children(cert, readTlv(cert, 0))[0];
    const fields = children(cert, tbs);
    // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, …
    const at = fields[0].tag === 0xa0 ? 1 : 0;
    this.issuerName = slice(cert, fields[at + 4]);
    // The key identifier as RFC 5280 §4.2.1.2 (1) and @peculiar/x509: SHA-1 of the CA's subjectPublicKey bits.
    const caKeyBits = children(cert, fields[at + 5])[1];
    this.authorityKeyId = createHash("sha1").update(content(cert, caKeyBits).subarray(1)).digest();
  }

  /** The certificate, PEM. */
  sign(r: LeafRequest): string {
    const subject = seq(utf8Attr("2.5.4.3", r.commonName), utf8Attr("2.5.4.10", r.organization));
    const san = ext("2.5.29.17", true, seq(tlv(0x86, Buffer.from(r.uri, "ascii"))));
    const aki = ext("2.5.29.35", false, seq(tlv(0x80, this.authorityKeyId)));
    const tbs = seq(
      tlv(0xa0, integerHex("02")),
      integerHex(r.serialHex),
      ECDSA_SHA256,
      this.issuerName,
      seq(time(r.notBefore), time(r.notAfter)),
      subject,
      r.spki,
      tlv(0xa3, seq(FIXED_EXTENSIONS, san, aki)),
    );
    const signature = sign("sha256", tbs, { key: this.key, dsaEncoding: "der" });
    return derToPem(seq(tbs, ECDSA_SHA256, bitString(signature)), "CERTIFICATE");
  }
}

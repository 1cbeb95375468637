/**
 * An operator's CA made the way an operator would, with the openssl CLI: a root and an intermediate signed by it,
 * written as Istio's plug-in CA files (ca-cert.pem, ca-key.pem — SEC1 "EC PRIVATE KEY" —, cert-chain.pem,
 * root-cert.pem) into `dir`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function makePluginCa(dir: string): { rootPem: string; intermediatePem: string } {
  const f = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  writeFileSync(
    f("openssl.cnf"),
    [
      "[req]\ndistinguished_name=dn\n[dn]",
      "[root]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash",
      "[inter]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid",
      "",
    ].join("\n"),
  );
  const cnf = ["-config", f("openssl.cnf")];
  ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("root-key.pem"));
  ssl(
    "req",
    "-new",
    "-x509",
    ...cnf,
    "-extensions",
    "root",
    "-key",
    f("root-key.pem"),
    "-subj",
    "/O=Example Corp/CN=Example Corp Root CA",
    "-days",
    "3650",
    "-sha256",
    "-out",
    f("root-cert.pem"),
  );
  ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("ca-key.pem"));
  ssl("req", "-new", ...cnf, "-key", f("ca-key.pem"), "-subj", "/O=Example Corp/CN=Trellis intermediate CA", "-out", f("ca.csr"));
  ssl(
    "x509",
    "-req",
    "-in",
    f("ca.csr"),
    "-CA",
    f("root-cert.pem"),
    "-CAkey",
    f("root-key.pem"),
    "-CAcreateserial",
    "-days",
    "365",
    "-sha256",
    "-extfile",
    f("openssl.cnf"),
    "-extensions",
    "inter",
    "-out",
    f("ca-cert.pem"),
  );
  const intermediatePem = readFileSync(f("ca-cert.pem"), "utf8");
  const rootPem = readFileSync(f("root-cert.pem"), "utf8");
  writeFileSync(f("cert-chain.pem"), intermediatePem + rootPem);
  return { rootPem, intermediatePem };
}

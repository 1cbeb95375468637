/**
 * Whether and how the console serves TLS (https + wss on the one port):
 * - beyond loopback (HOST other than 127.0.0.0/8, ::1, localhost) always; on loopback when TRELLIS_TLS=1;
 * - the certificate: TRELLIS_TLS_CERT + TRELLIS_TLS_KEY (PEM files, operator-provided), else one issued by the mesh CA
 *   at start for the host names and addresses the console answers on (HOST, TRELLIS_TLS_HOSTS, this machine's name and
 *   addresses when HOST is a wildcard, and loopback). Agents trust it with `--console-ca <data>/ca/ca.crt`.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { caCertPin, isLoopbackHost } from "@trellis/protocol";
import type { ConsoleConfig } from "../config.ts";
import { CertificateAuthority } from "../security/ca.ts";

export interface ConsoleTls {
  cert: string;
  key: string;
  /** Where the certificate came from, and the CA file agents should trust (for the log). */
  source: "operator" | "mesh-ca";
  caFile: string | null;
  /** `sha256:<hex>` of the mesh CA's public key, for `--console-ca-hash` (null for an operator's certificate). */
  caPin: string | null;
  names: string[];
}

/** TLS is on beyond loopback, and on loopback when asked. */
export function wantsTls(cfg: Pick<ConsoleConfig, "host" | "tls">): boolean {
  return cfg.tls || !isLoopbackHost(cfg.host);
}

/** The names and addresses the console's own certificate covers. */
export function serverNames(host: string, extra: string[]): { dns: string[]; ips: string[] } {
  const all = new Set<string>(["localhost", "127.0.0.1", "::1", ...extra]);
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "0.0.0.0" || h === "::") {
    all.add(os.hostname());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) all.add(a.address.replace(/%.*$/, ""));
  } else all.add(h);
  const names = [...all].filter((n) => n.length > 0);
  return { dns: names.filter((n) => isIP(n) === 0), ips: names.filter((n) => isIP(n) !== 0) };
}

export async function loadConsoleTls(cfg: ConsoleConfig): Promise<ConsoleTls | null> {
  if (!wantsTls(cfg)) return null;
  if (cfg.tlsCertFile || cfg.tlsKeyFile) {
    if (!cfg.tlsCertFile || !cfg.tlsKeyFile) throw new Error("TRELLIS_TLS_CERT and TRELLIS_TLS_KEY go together");
    return {
      cert: readFileSync(cfg.tlsCertFile, "utf8"),
      key: readFileSync(cfg.tlsKeyFile, "utf8"),
      source: "operator",
      caFile: null,
      caPin: null,
      names: [],
    };
  }
  const { ca } = await CertificateAuthority.open(cfg.dataDir, cfg.trustDomain, cfg.certTtlSeconds);
  const { dns, ips } = serverNames(cfg.host, cfg.tlsHosts);
  const issued = await ca.issueServer(dns, ips);
  return {
    cert: issued.chain,
    key: issued.keyPem,
    source: "mesh-ca",
    caFile: path.join(cfg.dataDir, "ca", "ca.crt"),
    caPin: caCertPin(ca.certPem),
    names: [...dns, ...ips],
  };
}

/**
 * How the agent trusts its console before it sends the join token (as `kubeadm join --discovery-token-ca-cert-hash`
 * binds the token to the control plane's CA):
 * - `wss://` with `--console-ca <file>`: the console's certificate must chain to that CA (the console's own CA,
 *   `<console data>/ca/ca.crt`, or the one that signed an operator-provided certificate) and name the host. Nothing
 *   else is trusted: the system's CAs are not consulted.
 * - `wss://` without it: the system's CAs (a console behind a publicly trusted certificate).
 * - `ws://` only to a loopback console (127.0.0.0/8, ::1, localhost): a token never crosses the network in plaintext.
 */
import { readFileSync } from "node:fs";
import { isLoopbackHost } from "@trellis/protocol";

/** Stable codes of these refusals (documented in apps/agent/README.md). */
export const CONTROL_PLAINTEXT_CONSOLE = "TRELLIS_CONTROL_PLAINTEXT_CONSOLE";
export const CONTROL_CONSOLE_UNTRUSTED = "TRELLIS_CONTROL_CONSOLE_UNTRUSTED";

/** Why the URL may not carry a token, or null when it may. */
export function plaintextRefusal(consoleUrl: string): string | null {
  const url = new URL(consoleUrl);
  if (url.protocol !== "ws:" || isLoopbackHost(url.hostname)) return null;
  return `${CONTROL_PLAINTEXT_CONSOLE}: refusing to send the join token over plaintext ws:// to ${url.host}; use wss:// (with --console-ca <the console's CA file>)`;
}

/** The PEM CA bundle of `--console-ca`, or an error message. */
export function readConsoleCa(file: string): { pem: string } | { error: string } {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    return { error: `--console-ca: cannot read ${file}: ${(err as NodeJS.ErrnoException).code}` };
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) return { error: `--console-ca: ${file} holds no PEM certificate` };
  return { pem };
}

/** TLS errors that mean "this console's certificate is not one we trust" (as opposed to "unreachable"). */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

export function isUntrustedCertificate(err: unknown): boolean {
  return UNTRUSTED.has((err as { code?: string } | null)?.code ?? "");
}

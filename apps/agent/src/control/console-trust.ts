/**
 * How the agent trusts its console before it sends the join token (as `kubeadm join --discovery-token-ca-cert-hash`
 * binds the token to the control plane's CA):
 * - `wss://` with `--console-ca <file>`: the console's certificate must chain to that CA (the console's own CA,
 *   `<console data>/ca/ca.crt`, or the one that signed an operator-provided certificate) and name the host. Nothing
 *   else is trusted: the system's CAs are not consulted.
 * - `wss://` with `--console-ca-hash sha256:<hex>` (the SPKI hash of the console's CA, which the console prints at
 *   start): a TLS handshake that sends nothing fetches the console's chain, the CA whose hash matches becomes the CA
 *   to trust, and the websocket connection is then verified against it as above. No match: refused, nothing sent.
 * - `wss://` without either: the system's CAs (a console behind a publicly trusted certificate).
 * - `ws://` only to a loopback console (127.0.0.0/8, ::1, localhost): a token never crosses the network in plaintext.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import tls from "node:tls";
import { caCertPin, derToPem, isLoopbackHost } from "@trellis/protocol";

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
  if ((err as { code?: string } | null)?.code === CONTROL_CONSOLE_UNTRUSTED) return true;
  return UNTRUSTED.has((err as { code?: string } | null)?.code ?? "");
}

const PIN = /^sha256:[0-9a-f]{64}$/;

/** `--console-ca-hash`: null when well-formed, else the error message. */
export function pinError(pin: string): string | null {
  return PIN.test(pin) ? null : "--console-ca-hash must be sha256:<64 lowercase hex digits> (the console prints it at start)";
}

/**
 * The CA certificate (PEM) in the console's TLS chain whose SPKI hash is `pin`. Only a TLS handshake happens: not a
 * byte of HTTP (nor the token) is sent. Rejects with code TRELLIS_CONTROL_CONSOLE_UNTRUSTED when nothing matches.
 */
export function discoverPinnedCa(consoleUrl: string, pin: string, timeoutMs = 5_000): Promise<string> {
  const url = new URL(consoleUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake with ${url.host} timed out`));
    }, timeoutMs);
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const chain: Buffer[] = [];
      const seen = new Set<string>();
      let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (c?.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(c.raw);
        c = c.issuerCertificate;
      }
      socket.destroy();
      const match = chain.find((raw) => caCertPin(raw) === pin);
      if (match) resolve(derToPem(match, "CERTIFICATE"));
      else
        reject(
          Object.assign(new Error(`no certificate in the console's chain has the pinned hash ${pin}`), {
            code: CONTROL_CONSOLE_UNTRUSTED,
          }),
        );
    });
  });
}

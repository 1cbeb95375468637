/**
 * Every failure the agent itself produces, as a `TrellisError` (the protocol's one error base class):
 * `code` names the layer (`TRELLIS_<LAYER>_<WHAT>`), `proxyError` is the `x-trellis-error` header value, `status` the
 * HTTP status. Documented in apps/agent/README.md; keep the two in step.
 */
import { TrellisError } from "@trellis/protocol";

export { TrellisError };

/** Error kinds (the `x-trellis-error` values). */
export const ProxyErrorKind = {
  notReady: "not-ready",
  unknownService: "unknown-service",
  noHealthyEndpoints: "no-healthy-endpoints",
  connectRefused: "upstream-connect-refused",
  connectFailed: "upstream-connect-failed",
  upstreamReset: "upstream-reset",
  upstreamProtocol: "upstream-protocol-error",
  timeout: "timeout",
  badRequest: "bad-request",
  appUnavailable: "app-unavailable",
  appReset: "app-reset",
  appTimeout: "app-timeout",
  headersTooLarge: "headers-too-large",
  requestTimeout: "request-timeout",
  clientClosed: "client-closed",
  connectUnsupported: "connect-not-supported",
  rbacDenied: "rbac-denied",
  mtlsRequired: "mtls-required",
  tlsFailed: "upstream-tls-failed",
  circuitOpen: "circuit-open",
  perTryTimeout: "per-try-timeout",
  faultAbort: "fault-injected",
  /** Capture mode: a redirected connection that does not speak HTTP (or says nothing); closed, never forwarded. */
  nonHttp: "non-http",
  /** The init step could not install or remove the capture rules. */
  captureSetup: "capture-setup-failed",
  /** Internal: an upstream answer the retry layer swallowed to try again (never sent to a client as such). */
  retriableStatus: "upstream-retriable-status",
} as const;

const K = ProxyErrorKind;

export const errors = {
  outboundNotReady: () => new TrellisError("TRELLIS_OUTBOUND_NOT_READY", K.notReady, 503, "no config snapshot has been applied yet"),
  inboundNotReady: () => new TrellisError("TRELLIS_INBOUND_NOT_READY", K.notReady, 503, "no config snapshot has been applied yet"),
  unknownService: (name: string) =>
    new TrellisError("TRELLIS_OUTBOUND_UNKNOWN_SERVICE", K.unknownService, 503, `service "${name}" is not in the applied snapshot`),
  noHealthyEndpoints: (name: string, version: string | null) =>
    new TrellisError(
      "TRELLIS_OUTBOUND_NO_HEALTHY_ENDPOINTS",
      K.noHealthyEndpoints,
      503,
      version ? `service "${name}" has no endpoint of version ${version}` : `service "${name}" has no endpoint`,
    ),
  connectRefused: (address: string, cause: unknown) =>
    new TrellisError("TRELLIS_OUTBOUND_CONNECT_REFUSED", K.connectRefused, 502, `connection refused by ${address}`, { cause }),
  connectFailed: (address: string, cause: unknown) =>
    new TrellisError("TRELLIS_OUTBOUND_CONNECT_FAILED", K.connectFailed, 502, `could not connect to ${address}`, { cause }),
  upstreamReset: (address: string, cause: unknown) =>
    new TrellisError("TRELLIS_OUTBOUND_UPSTREAM_RESET", K.upstreamReset, 502, `connection to ${address} was reset`, { cause }),
  upstreamProtocol: (address: string, cause: unknown) =>
    new TrellisError("TRELLIS_OUTBOUND_UPSTREAM_PROTOCOL", K.upstreamProtocol, 502, `invalid HTTP response from ${address}`, { cause }),
  timeout: (name: string, ms: number) =>
    new TrellisError("TRELLIS_OUTBOUND_TIMEOUT", K.timeout, 504, `call to "${name}" did not complete within ${ms} ms`),
  outboundBadRequest: (cause: unknown) =>
    new TrellisError("TRELLIS_OUTBOUND_BAD_REQUEST", K.badRequest, 400, "request cannot be forwarded", { cause }),
  appUnavailable: (port: number, cause: unknown) =>
    new TrellisError("TRELLIS_INBOUND_APP_UNAVAILABLE", K.appUnavailable, 502, `local app on port ${port} is not accepting connections`, { cause }),
  appReset: (port: number, cause: unknown) =>
    new TrellisError("TRELLIS_INBOUND_APP_RESET", K.appReset, 502, `connection to the local app on port ${port} was reset`, { cause }),
  appTimeout: (port: number, cause: unknown) =>
    new TrellisError("TRELLIS_INBOUND_APP_TIMEOUT", K.appTimeout, 504, `local app on port ${port} did not answer in time`, { cause }),
  inboundBadRequest: (cause: unknown) => new TrellisError("TRELLIS_INBOUND_BAD_REQUEST", K.badRequest, 400, "request cannot be forwarded", { cause }),
  rbacDenied: (principal: string) =>
    new TrellisError("TRELLIS_INBOUND_RBAC_DENIED", K.rbacDenied, 403, `caller ${principal} is not allowed by this service's authorization policy`),
  mtlsRequired: () =>
    new TrellisError("TRELLIS_INBOUND_MTLS_REQUIRED", K.mtlsRequired, 403, "this service requires mTLS (mode STRICT); plaintext is refused"),
  tlsFailed: (address: string, cause: unknown) =>
    new TrellisError(
      "TRELLIS_OUTBOUND_TLS_FAILED",
      K.tlsFailed,
      502,
      `could not establish mTLS with ${address}: ${(cause as Error)?.message ?? cause}`,
      { cause },
    ),
  circuitOpen: (name: string, what: string) =>
    new TrellisError("TRELLIS_OUTBOUND_CIRCUIT_OPEN", K.circuitOpen, 503, `circuit breaker for "${name}" is open: ${what}`),
  perTryTimeout: (name: string, ms: number) =>
    new TrellisError("TRELLIS_OUTBOUND_PER_TRY_TIMEOUT", K.perTryTimeout, 504, `an attempt to call "${name}" got no response within ${ms} ms`),
  faultAbort: (name: string, status: number) =>
    new TrellisError("TRELLIS_OUTBOUND_FAULT_INJECTED", K.faultAbort, status, `fault injected by the policy of "${name}"`),
  retriableStatus: (name: string, status: number) =>
    new TrellisError("TRELLIS_OUTBOUND_RETRIABLE_STATUS", K.retriableStatus, 502, `"${name}" answered ${status}; retrying`),
  captureFailed: (what: string, cause: unknown) =>
    new TrellisError("TRELLIS_CAPTURE_IPTABLES_FAILED", K.captureSetup, 500, `capture rules: ${what}`, { cause }),
  /** The client went away before the response was complete; nothing is sent, the edge records 499. */
  clientClosed: () => new TrellisError("TRELLIS_HTTP_CLIENT_CLOSED", K.clientClosed, 499, "client closed the connection"),
};

/** Status recorded for a call whose client went away (nginx's convention; counted in the 4xx class). */
export const CLIENT_CLOSED_STATUS = 499;

/** Errors raised by Node's HTTP server before a request exists (see proxy/server.ts). */
export const httpServerErrors: Record<string, { status: number; kind: string; code: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, kind: K.headersTooLarge, code: "TRELLIS_HTTP_HEADERS_TOO_LARGE" },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, kind: K.requestTimeout, code: "TRELLIS_HTTP_REQUEST_TIMEOUT" },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, kind: K.badRequest, code: "TRELLIS_HTTP_BAD_REQUEST" },
};
export const httpServerBadRequest = { status: 400, kind: K.badRequest, code: "TRELLIS_HTTP_BAD_REQUEST" };
/** CONNECT tunnels (HTTPS_PROXY for https:// URLs) are not offered: the app talks plain HTTP to its agent. */
export const httpConnectUnsupported = { status: 405, kind: K.connectUnsupported, code: "TRELLIS_HTTP_CONNECT_UNSUPPORTED" };

/** Socket-level error codes from undici / net that mean "the connection never got established". */
export function isConnectRefused(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "ECONNREFUSED";
}
const CONNECT_FAILURES = new Set(["ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT"]);
export function isConnectFailure(err: unknown): boolean {
  return CONNECT_FAILURES.has((err as { code?: string } | null)?.code ?? "");
}
const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
export function isUpstreamTimeout(err: unknown): boolean {
  return TIMEOUTS.has((err as { code?: string } | null)?.code ?? "");
}
const BAD_ARGUMENT = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED", "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH"]);
export function isBadRequestArgument(err: unknown): boolean {
  return BAD_ARGUMENT.has((err as { code?: string } | null)?.code ?? "");
}
export function isProtocolError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code ?? "";
  return (
    code.startsWith("HPE_") ||
    code.startsWith("ERR_INVALID_") ||
    code.startsWith("ERR_HTTP_INVALID_") ||
    e?.code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH" ||
    e?.message === "bad response"
  );
}

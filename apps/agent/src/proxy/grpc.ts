/**
 * What the proxy needs to know about gRPC (HTTP/2 + `application/grpc` + trailers): which status codes are failures,
 * `grpc-timeout` parsing, and a proxy-made error as a gRPC caller can read it — a trailers-only response (HTTP 200,
 * `grpc-status`, `grpc-message`, `x-trellis-error`), never an HTTP 502 a gRPC client reports as "Received HTTP status".
 */
import { isGrpcFailureCode, PROXY_ERROR_HEADER, type TrellisError } from "@trellis/protocol";

/** gRPC status codes the proxy names (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  ok: 0,
  cancelled: 1,
  unknown: 2,
  deadlineExceeded: 4,
  permissionDenied: 7,
  resourceExhausted: 8,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  dataLoss: 15,
  unauthenticated: 16,
} as const;

/**
 * Failures for telemetry, metrics and traces: the codes gRPC's own HTTP mapping puts in 5xx (a server or network
 * fault), as a 5xx counts for HTTP. Application outcomes (NOT_FOUND, INVALID_ARGUMENT, …) are answers, not errors.
 */
export function isGrpcFailure(code: number): boolean {
  return isGrpcFailureCode(code);
}

/** The gRPC status a proxy-made error is reported as (gRPC's HTTP-to-gRPC mapping, plus the proxy's own cases). */
export function grpcStatusOfError(err: TrellisError): number {
  if (err.proxyError === "timeout" || err.proxyError === "per-try-timeout" || err.proxyError === "app-timeout") return GrpcStatus.deadlineExceeded;
  switch (err.status) {
    case 400:
      return GrpcStatus.internal;
    case 401:
      return GrpcStatus.unauthenticated;
    case 403:
      return GrpcStatus.permissionDenied;
    case 404:
      return GrpcStatus.unimplemented;
    case 429:
    case 502:
    case 503:
      return GrpcStatus.unavailable;
    case 504:
      return GrpcStatus.deadlineExceeded;
    default:
      return err.status === 499 ? GrpcStatus.cancelled : GrpcStatus.unknown;
  }
}

/** `grpc-message` is percent-encoded (RFC 3986 unreserved and printable ASCII pass, as the gRPC spec allows). */
export function encodeGrpcMessage(text: string): string {
  let out = "";
  for (const b of Buffer.from(text, "utf8")) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The headers of a trailers-only response for a proxy-made error (HTTP status 200, the outcome in grpc-status). */
export function grpcErrorHeaders(err: TrellisError): string[] {
  return [
    "content-type",
    "application/grpc",
    "grpc-status",
    String(grpcStatusOfError(err)),
    "grpc-message",
    encodeGrpcMessage(`${err.proxyError}: ${err.message}`),
    PROXY_ERROR_HEADER,
    err.proxyError,
  ];
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/** `grpc-timeout: 250m` → 250 (ms); malformed → null (the header is then ignored, as servers do). */
export function parseGrpcTimeout(value: string | null): number | null {
  if (value === null) return null;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value.trim());
  if (m === null) return null;
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** The shortest `grpc-timeout` form for `ms` (at most 8 digits, as the spec requires). */
export function formatGrpcTimeout(ms: number): string {
  const m = Math.max(0, Math.ceil(ms));
  return m < 100_000_000 ? `${m}m` : `${Math.ceil(m / 1000)}S`;
}

/**
 * Deadline propagation: sets the `grpc-timeout` among flat `[name, value, …]` headers to what is left of the
 * caller's deadline (at least 1 ms: 0 would read as "no time at all" and the next hop would not even try).
 */
export function setGrpcTimeout(flat: string[], leftMs: number): void {
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    if (n.length === 12 && n.toLowerCase() === "grpc-timeout") {
      flat[i + 1] = formatGrpcTimeout(Math.max(1, leftMs));
      return;
    }
  }
}

/** The numeric `grpc-status` among flat `[name, value, …]` headers, or -1. */
export function grpcStatusIn(flat: readonly string[]): number {
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    if (n.length === 11 && n.toLowerCase() === "grpc-status") {
      const v = Number(flat[i + 1]);
      return Number.isInteger(v) ? v : GrpcStatus.unknown;
    }
  }
  return -1;
}

/** Request headers of a gRPC call: its content type says so; the deadline it carries, if any. */
export function grpcRequestInfo(flat: readonly string[]): { grpc: boolean; timeoutMs: number | null } {
  let grpc = false;
  let timeoutMs: number | null = null;
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    if (n.length !== 12) continue;
    const lower = n.toLowerCase();
    if (lower === "content-type") grpc = flat[i + 1].startsWith("application/grpc");
    else if (lower === "grpc-timeout") timeoutMs = parseGrpcTimeout(flat[i + 1]);
  }
  return { grpc, timeoutMs };
}

/** The parts of a server response (HTTP/1.1, or HTTP/2's compatibility API) that gRPC answers are written with. */
interface GrpcResponse {
  statusCode: number;
  appendHeader(name: string, value: string): unknown;
  writeHead(status: number, headers: string[]): unknown;
  addTrailers(trailers: Record<string, string>): void;
  end(): unknown;
}

/** Sets an HTTP/2 response's head without sending it: it leaves with the end of the stream, as one HEADERS frame. */
export function stageHead(res: Pick<GrpcResponse, "statusCode" | "appendHeader">, status: number, headers: readonly string[]): void {
  res.statusCode = status;
  for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i], headers[i + 1]);
}

/**
 * A response that is only a head ending the stream: over HTTP/2 one HEADERS frame with END_STREAM (gRPC's
 * trailers-only form: the compatibility API sends the head with the end when nothing was written), over HTTP/1.1 a
 * head with an empty body.
 */
export function writeTrailersOnly(res: GrpcResponse, h2: boolean, status: number, headers: string[]): void {
  if (h2) {
    stageHead(res, status, headers);
    res.end();
    return;
  }
  res.writeHead(status, [...headers, "content-length", "0"]);
  res.end();
}

/** A proxy-made error on a gRPC stream already answering: its status goes in the trailers. Returns that status. */
export function endWithGrpcError(res: Pick<GrpcResponse, "addTrailers" | "end">, err: TrellisError): number {
  const t = grpcErrorHeaders(err);
  res.addTrailers({ [t[2]]: t[3], [t[4]]: t[5], [t[6]]: t[7] });
  res.end();
  return Number(t[3]);
}

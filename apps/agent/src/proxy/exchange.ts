/**
 * One proxied request. The exchange is also the undici dispatch handler (legacy handler API, which undici's Pool
 * calls without wrapping): response headers are copied from undici's raw header array straight into the server
 * response, body chunks are written as they arrive with backpressure, the request body is handed to undici as a
 * stream. One object per request, no Promises, no per-request closures.
 */
import { type IncomingMessage, ServerResponse } from "node:http";
import { Http2ServerResponse } from "node:http2";
import type { Duplex, Readable } from "node:stream";
import { PROXY_ERROR_HEADER, type TrellisError } from "@trellis/protocol";
import type { Dispatcher } from "undici";
import type { MirrorTarget, ServiceRoute, Target, TargetSet } from "../config/routes.ts";
import { CLIENT_CLOSED_STATUS, errors } from "../errors.ts";
import type { BreakerState } from "../policy/breaker.ts";
import type { RetryState } from "../policy/retry-policy.ts";
import type { EdgeGroup } from "../telemetry/edges.ts";
import type { TraceContext } from "../telemetry/trace-context.ts";
import { AttemptRecord } from "./attempt.ts";
import {
  endWithGrpcError,
  grpcErrorHeaders,
  grpcRequestInfo,
  grpcStatusIn,
  grpcStatusOfError as grpcStatusOf,
  isGrpcFailure,
  setGrpcTimeout,
  stageHead,
  writeTrailersOnly,
} from "./grpc.ts";
import { filterResponseHeaders, joinHeaders, type RequestHeaderInfo, trailerObject } from "./headers.ts";
import { Tunnel, type TunnelEnd } from "./tunnel.ts";

/** Turns an undici/socket error into the proxy error for the layer that owns the connection. */
export interface Upstream {
  classify(ex: Exchange, err: Error): TrellisError;
}

/** What moves an exchange through its layers (proxy/layer.ts's Stack); the exchange reports its upstream events. */
export interface Driver {
  fail(ex: Exchange, err: TrellisError): void;
  complete(ex: Exchange): void;
  /** The response head arrived: true = a layer (retry) discards this answer and will try again. */
  responseHead(ex: Exchange, status: number): boolean;
}

/** `http.createServer({ ServerResponse: ProxyResponse })`: lets the shared 'close' listener find its exchange. */
export class ProxyResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  ex: Exchange | null = null;
  /** An upgrade request (proxy/upgrade.ts): the client's raw socket and the bytes it sent after the head. */
  tunnelSocket: Duplex | null = null;
  tunnelHead: Buffer | null = null;
}

/** The HTTP/2 response the exchange writes to (the HTTP/1.1 one is `ProxyResponse`). */
export class ProxyH2Response extends Http2ServerResponse {
  ex: Exchange | null = null;
  /** Upgrades are HTTP/1.1 only. */
  readonly tunnelSocket = null;
  readonly tunnelHead = null;
}

enum Phase {
  Routing = 0,
  Dispatched = 1,
  Streaming = 2,
  Done = 3,
  /** A retriable answer is being drained (not relayed); the retry layer re-dispatches when it ends. */
  Discarding = 4,
}

const EMPTY: string[] = [];

function uncork(res: ProxyResponse): void {
  res.uncork();
}

function onClientClose(this: ProxyResponse): void {
  const ex = this.ex;
  if (ex !== null) ex.clientClosed();
}

export class Exchange implements RequestHeaderInfo, TunnelEnd {
  // Position in the stack (maintained by Stack).
  stack: Driver | null = null;
  at = 0;
  depth = 0;
  private phase: Phase = Phase.Routing;

  // Decoded request.
  /** Destination service name (outbound) — empty for inbound. */
  service = "";
  path = "/";
  headers: string[] = EMPTY;
  // RequestHeaderInfo, filled by filterRequestHeaders.
  source: string | null = null;
  host: string | null = null;
  hasBody = false;
  /** What is sent upstream instead of `req` as the body: its buffered copy, or a stream of it (proxy/replay-body.ts). */
  bodySource: Buffer | Readable | null = null;
  /** Inbound: the caller's SPIFFE id from its certificate (cached per connection), null for plaintext. */
  peer: string | null = null;
  /** The protocol an HTTP/1.1 upgrade asks for (`websocket`), null for plain requests. */
  upgrade: string | null = null;
  /** A stream (body or tunnel) that moves nothing for this long is cut; 0 = the pool's default. */
  idleTimeoutMs = 0;
  /** When the response head (or the 101) arrived, ms since start; 0 before. */
  headAt = 0;
  /** The tunnel after a 101 (its bytes and duration are recorded when it closes). */
  tunnel: Tunnel | null = null;
  /** Whether this hop ran over mTLS (inbound: the call arrived over it; outbound: the chosen endpoint's pool uses it). */
  mtls = false;
  /** The request arrived over HTTP/2 (its response is a `ProxyH2Response`). */
  readonly h2: boolean;
  /** A gRPC call (HTTP/2, `content-type: application/grpc…`): proxy-made errors are answered as gRPC statuses. */
  grpc = false;
  /** The deadline the gRPC caller set (`grpc-timeout`), in ms; null = none. */
  grpcTimeoutMs: number | null = null;
  /** The call's gRPC status (from a trailers-only head or the trailers); -1 = none seen. */
  grpcStatus = -1;
  /** Connect layer: `x-trellis-orig-proto` was added (an HTTP/1.1 request sent over HTTP/2 between agents). */
  origProtoMarked = false;

  // Routing decisions.
  route: ServiceRoute | null = null;
  subset: TargetSet | null = null;
  /** Where a share of this call is mirrored (outbound/mirror.ts decides whether this one is); null = nowhere. */
  mirror: MirrorTarget | null = null;
  target: Target | null = null;
  /** Telemetry edge this exchange is reported on; null = not reported here (e.g. inbound mesh calls). */
  edge: EdgeGroup | null = null;
  attempts = 0;
  attemptStart = 0;
  /** Whether `target`'s in-flight count includes this exchange. */
  holdsTarget = false;
  timer: NodeJS.Timeout | null = null;
  /** Timeout layer: the gRPC deadline (`grpc-timeout`), which bounds the whole call. */
  deadlineTimer: NodeJS.Timeout | null = null;

  // Per-layer records (set by the layers that own them; null when the service or the request has none).
  /** Retry layer: the policy, retries left and the per-try timer, when this exchange may be retried. */
  retry: RetryState | null = null;
  /** Observe layer: this hop's trace context (telemetry/tracing.ts). */
  trace: TraceContext | null = null;
  /** Fault-injection delay timer. */
  faultTimer: NodeJS.Timeout | null = null;
  /** Circuit layer: the breaker this exchange counts against (released on failure or completion). */
  breaker: BreakerState | null = null;
  /** The current attempt's outcome was fed to outlier detection. */
  outcomeRecorded = false;
  /** Failure to report once the abandoned attempt's abort comes back (per-try timeout). */
  private pendingFailure: TrellisError | null = null;
  /** Upstream attempts so far (each `dispatch`), when the current one started, and the earlier ones (retries only). */
  dispatches = 0;
  dispatchAt = 0;
  attemptLog: AttemptRecord[] | null = null;
  private attemptError: string | null = null;
  /** The target the current attempt went to (balance may already have picked the next one when it closes). */
  private attemptTarget: Target | null = null;

  // Upstream call.
  upstream: Upstream | null = null;
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private cancelled = false;

  // Outcome.
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  error: TrellisError | null = null;
  /** The call failed (proxy-made error, or the response broke after it started). */
  failed = false;
  clientGone = false;

  readonly start: number;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ProxyResponse,
  ) {
    this.start = performance.now();
    this.h2 = req.httpVersionMajor === 2;
    res.ex = this;
    res.on("close", onClientClose);
    // An upgrade request (proxy/upgrade.ts): the protocol it asks for, as sent.
    if (res.tunnelSocket !== null) this.upgrade = req.headers.upgrade || null;
  }

  isDone(): boolean {
    return this.phase === Phase.Done;
  }

  /** Returns false when already done (complete runs once). */
  markDone(): boolean {
    if (this.phase === Phase.Done) return false;
    this.phase = Phase.Done;
    this.res.ex = null;
    return true;
  }

  get responseStarted(): boolean {
    return this.res.headersSent;
  }

  fail(err: TrellisError): void {
    this.stack!.fail(this, err);
  }

  /** Writes a proxy-made error response (or breaks the response if it already started). */
  respondError(err: TrellisError): void {
    this.error = err;
    this.failed = err.status >= 500;
    const res = this.res;
    if (this.clientGone) {
      this.status = CLIENT_CLOSED_STATUS;
      this.failed = false;
      return;
    }
    if (res.headersSent && this.grpc && this.h2) {
      // A gRPC stream already answering: its status still fits in the trailers.
      this.failed = true;
      this.grpcStatus = endWithGrpcError(res, err);
      return;
    }
    if (res.headersSent) {
      // The status already went out; the only honest signal left is to cut the connection.
      this.failed = true;
      res.destroy();
      return;
    }
    if (this.grpc) {
      // A gRPC caller reads a status, not an HTTP error page: trailers-only (HTTP 200, grpc-status, grpc-message).
      this.status = 200;
      this.grpcStatus = grpcStatusOf(err);
      writeTrailersOnly(res, this.h2, 200, grpcErrorHeaders(err));
      return;
    }
    this.status = err.status;
    const body = `${err.proxyError}: ${err.message}\n`;
    res.writeHead(err.status, [
      PROXY_ERROR_HEADER,
      err.proxyError,
      "content-type",
      "text/plain; charset=utf-8",
      "content-length",
      String(Buffer.byteLength(body)),
    ]);
    res.end(body);
  }

  /** Reads what decoding needs from the forwarded headers of an HTTP/2 request (body, gRPC, deadline). */
  decodedH2(): void {
    // No content-length is required in HTTP/2: a body follows unless the HEADERS frame ended the stream.
    const req = this.req as unknown as import("node:http2").Http2ServerRequest;
    this.hasBody = !req.stream.endAfterHeaders;
    // A stream nobody reads is closed by node with RST_STREAM(NO_ERROR) once the response is written, which can
    // overtake the response's END_STREAM on a busy agent (the client sees a cut response): read the empty body.
    if (!this.hasBody) req.resume();
    const g = grpcRequestInfo(this.headers);
    this.grpc = g.grpc;
    this.grpcTimeoutMs = g.timeoutMs;
  }

  /** Starts (or restarts, after a failed attempt) the upstream call on `dispatcher`. */
  dispatch(dispatcher: Pick<Dispatcher, "dispatch">): void {
    // Every attempt goes through here, whichever layer retries: the previous one is closed into the attempt log.
    const now = performance.now();
    if (this.dispatches > 0) this.closeAttempt(now);
    this.dispatches++;
    this.dispatchAt = now;
    this.attemptError = null;
    this.attemptTarget = this.target;
    this.phase = Phase.Dispatched;
    this.abortFn = null;
    this.resumeFn = null;
    this.cancelled = false;
    this.pendingFailure = null;
    // The next hop gets what is left of the caller's gRPC deadline, not the value the caller sent: every attempt,
    // after whatever time this agent spent on the call (fault delays, earlier attempts, retry backoff).
    if (this.grpcTimeoutMs !== null) setGrpcTimeout(this.headers, this.grpcTimeoutMs - (now - this.start));
    const req = this.req;
    const opts: Dispatcher.DispatchOptions = {
      path: this.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: this.headers,
      body: this.hasBody ? (this.bodySource ?? req) : null,
    };
    if (this.upgrade !== null) opts.upgrade = this.upgrade;
    if (this.idleTimeoutMs > 0) opts.bodyTimeout = this.idleTimeoutMs;
    dispatcher.dispatch(opts, this as unknown as Dispatcher.DispatchHandler);
  }

  private closeAttempt(now: number): void {
    const t = this.attemptTarget;
    const rec = new AttemptRecord(
      this.dispatchAt,
      now,
      t !== null ? t.ep.address : "app",
      t !== null ? t.version : "",
      this.status,
      this.attemptError,
    );
    if (this.attemptLog === null) this.attemptLog = [rec];
    else if (this.attemptLog.length < 30) this.attemptLog.push(rec);
  }

  /**
   * Aborts the upstream call if there is one in flight. undici may report the abort synchronously through onError:
   * callers that answer themselves (timeouts) finish the exchange first so that report is ignored.
   */
  cancelUpstream(): void {
    if (this.abortFn !== null) {
      const abort = this.abortFn;
      this.abortFn = null;
      abort(errors.clientClosed());
    } else if (this.phase === Phase.Dispatched) {
      this.cancelled = true;
    }
  }

  /**
   * Abandons the current attempt (per-try timeout) if its response has not started: the upstream call is aborted and
   * `err` travels up the stack once undici reports the abort. Returns false when too late.
   */
  abandonAttempt(err: TrellisError): boolean {
    if (this.phase !== Phase.Dispatched || this.pendingFailure !== null) return false;
    this.pendingFailure = err;
    this.cancelUpstream();
    return true;
  }

  /** The downstream connection closed before the exchange finished. */
  clientClosed(): void {
    if (this.phase === Phase.Done) return;
    this.clientGone = true;
    if (this.phase === Phase.Routing) return;
    this.cancelUpstream();
    if (this.cancelled) {
      // Still queued in the pool (no connection yet, so no abort handle): finish now, so the request stops counting
      // as in flight for the balancer and the circuit breaker. When undici reaches it, onConnect aborts it.
      this.status = CLIENT_CLOSED_STATUS;
      this.error = errors.clientClosed();
      this.stack!.complete(this);
    }
    // Otherwise undici reports the abort through onError, which completes the exchange with 499.
  }

  // ---- undici dispatch handler (legacy API: raw header arrays, resume callback) ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.phase === Phase.Done || this.cancelled || this.clientGone) {
      abort(errors.clientClosed());
      return;
    }
    this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.phase !== Phase.Dispatched || this.pendingFailure !== null) return false;
    if (statusCode < 200) return true; // 1xx (e.g. 103) are not relayed
    this.status = statusCode;
    const headers = filterResponseHeaders(rawHeaders);
    // A gRPC status in the head: a trailers-only answer (an error before any message, or an empty stream).
    if (this.grpc) this.grpcStatus = grpcStatusIn(headers);
    if (this.stack!.responseHead(this, statusCode)) {
      // Drain this answer (keeps the connection reusable) and try again when it ends.
      this.resumeFn = resume;
      this.phase = Phase.Discarding;
      return true;
    }
    this.resumeFn = resume;
    this.phase = Phase.Streaming;
    this.headAt = performance.now() - this.start;
    if (this.grpcStatus >= 0 && this.h2) {
      // Kept trailers-only: the head leaves with the end of the stream (onComplete), as one HEADERS frame.
      stageHead(this.res as unknown as ProxyH2Response, statusCode, headers);
      return true;
    }
    // Head, body and end usually arrive in one parser pass: cork so they leave in one write.
    this.res.cork();
    process.nextTick(uncork, this.res);
    if (statusText) this.res.writeHead(statusCode, statusText, headers);
    else this.res.writeHead(statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.phase !== Phase.Streaming) return this.phase === Phase.Discarding;
    this.bytesIn += chunk.length;
    if (this.res.write(chunk)) return true;
    this.res.once("drain", this.resumeFn!);
    return false;
  }

  onComplete(trailers: readonly (Buffer | string)[] | null): void {
    if (this.phase === Phase.Discarding) {
      this.retryDiscarded();
      return;
    }
    if (this.phase !== Phase.Streaming) return;
    this.abortFn = null;
    if (trailers !== null && trailers.length > 0) {
      const t = trailerObject(trailers);
      if (this.grpc && t["grpc-status"] !== undefined) this.grpcStatus = Number(t["grpc-status"]);
      this.res.addTrailers(t);
    }
    if (this.grpc && isGrpcFailure(this.grpcStatus)) this.failed = true;
    this.res.end();
    this.stack!.complete(this);
  }

  onError(err: Error): void {
    if (this.phase === Phase.Done) return;
    this.abortFn = null;
    if (this.clientGone) {
      this.status = CLIENT_CLOSED_STATUS;
      this.error = errors.clientClosed();
      this.stack!.complete(this);
      return;
    }
    if (this.phase === Phase.Discarding) {
      this.retryDiscarded();
      return;
    }
    const pending = this.pendingFailure;
    if (pending !== null) {
      this.pendingFailure = null;
      this.attemptError = pending.proxyError;
      this.phase = Phase.Routing;
      this.stack!.fail(this, pending);
      return;
    }
    const classified = this.upstream!.classify(this, err);
    this.attemptError = classified.proxyError;
    this.stack!.fail(this, classified);
  }

  /** The upstream switched protocols (101): relay the head, then pipe both sockets until both close. */
  onUpgrade(statusCode: number, rawHeaders: Buffer[], socket: Duplex): void {
    const client = this.res.tunnelSocket;
    if (this.phase !== Phase.Dispatched || this.pendingFailure !== null || this.clientGone || client === null) {
      socket.destroy();
      return;
    }
    this.abortFn = null;
    this.status = statusCode;
    this.headAt = performance.now() - this.start;
    this.stack!.responseHead(this, statusCode); // clears the head timers; a 101 is never retried
    this.phase = Phase.Streaming;
    this.res.detachSocket(client as never);
    client.write(`HTTP/1.1 ${statusCode} Switching Protocols\r\n${joinHeaders(rawHeaders)}\r\n`);
    const head = this.res.tunnelHead;
    if (head !== null && head.length > 0) socket.write(head);
    const mtls = this.target !== null ? this.target.ep.tls === true : this.mtls;
    if (this.edge !== null) this.edge.connectionOpened(this.headAt, mtls);
    this.tunnel = new Tunnel(client, socket, this.idleTimeoutMs, this);
  }

  onTunnelClosed(bytesDown: number, bytesUp: number): void {
    this.bytesIn += bytesDown;
    this.bytesOut += bytesUp;
    this.stack!.complete(this);
  }

  /** The swallowed retriable answer is over: hand the retry layer a failure it will retry. */
  private retryDiscarded(): void {
    this.abortFn = null;
    this.phase = Phase.Routing;
    this.stack!.fail(this, errors.retriableStatus(this.service, this.status));
  }

  /** undici 7 passes the chunk written (its typings say a size; accept both). */
  onBodySent(chunk: Buffer | string | number): void {
    this.bytesOut += typeof chunk === "number" ? chunk : chunk.length;
  }
}

/**
 * timeout: the destination service's `timeoutMs` bounds the time to the response head (or the 101 of an upgrade),
 * not the whole response: server-sent events, long downloads and WebSockets run on once they started. Before the
 * head the client gets 504 `timeout`. 0 disables. The optional `idleTimeoutMs` bounds a stream that stops moving:
 * it is handed to the exchange, which applies it to the response body (undici's body timeout) and to tunnels.
 *
 * A gRPC call's own deadline (`grpc-timeout`) bounds the whole call, as gRPC defines it, counted from the call's
 * arrival (a fault delay above spends it too): when it passes first, the caller gets DEADLINE_EXCEEDED from the agent
 * (trailers-only before the response started, in the trailers of a stream already answering) and the upstream call
 * is cancelled. The route timeout is capped by it (only armed when it would end sooner), and the next hop is sent
 * what is left of it (proxy/exchange.ts, at each attempt), so the server sees the caller's deadline, not a fresh one.
 */
import { errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";

function onTimeout(ex: Exchange): void {
  ex.timer = null;
  if (ex.isDone()) return;
  // Answer first (the exchange is then done), then abort: undici's abort reports synchronously and is ignored.
  ex.fail(errors.timeout(ex.service, ex.route!.timeoutMs));
  ex.cancelUpstream();
}

function onDeadline(ex: Exchange): void {
  ex.deadlineTimer = null;
  if (ex.isDone()) return;
  ex.fail(errors.timeout(ex.service, ex.grpcTimeoutMs ?? 0));
  ex.cancelUpstream();
}

function clear(ex: Exchange): void {
  if (ex.timer !== null) {
    clearTimeout(ex.timer);
    ex.timer = null;
  }
}

export class TimeoutLayer implements Layer {
  readonly name = "timeout";

  onRequest(ex: Exchange): boolean {
    const route = ex.route!;
    ex.idleTimeoutMs = route.idleTimeoutMs;
    const left = ex.grpcTimeoutMs === null ? null : ex.grpcTimeoutMs - (performance.now() - ex.start);
    if (left !== null && left <= 0) {
      ex.fail(errors.timeout(ex.service, ex.grpcTimeoutMs ?? 0));
      return false;
    }
    if (left !== null) ex.deadlineTimer = setTimeout(onDeadline, left, ex);
    const ms = route.timeoutMs;
    if (ms > 0 && (left === null || ms < left)) ex.timer = setTimeout(onTimeout, ms, ex);
    return true;
  }

  /** The head arrived (a retry layer below may still discard it; then the clock keeps running, as it should). */
  onResponseHead(ex: Exchange, _status: number): boolean {
    clear(ex);
    return false;
  }

  onComplete(ex: Exchange): void {
    clear(ex);
    if (ex.deadlineTimer !== null) {
      clearTimeout(ex.deadlineTimer);
      ex.deadlineTimer = null;
    }
  }
}

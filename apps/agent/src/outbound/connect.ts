/**
 * connect: sends the call to the chosen endpoint over its pooled keep-alive undici Pool (mTLS will plug in here),
 * and names what went wrong when it fails.
 */
import type { TrellisError } from "@trellis/protocol";
import { errors, isBadRequestArgument, isConnectFailure, isConnectRefused, isProtocolError, isUpstreamTimeout } from "../errors.ts";
import type { Exchange, Upstream } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";

export class ConnectLayer implements Layer, Upstream {
  readonly name = "connect";

  onRequest(ex: Exchange): boolean {
    ex.upstream = this;
    // HTTP/2 from the app (gRPC) goes on as HTTP/2 over the endpoint's multiplexed connection (ALPN h2 over mTLS).
    ex.dispatch(ex.h2 ? ex.target!.ep.h2() : ex.target!.ep.pool);
    return false;
  }

  classify(ex: Exchange, err: Error): TrellisError {
    const address = ex.target?.ep.address ?? "?";
    if (isConnectRefused(err)) return errors.connectRefused(address, err);
    if ((err as { code?: string }).code === "TRELLIS_TLS_FAILED") return errors.tlsFailed(address, err);
    if (isConnectFailure(err)) return errors.connectFailed(address, err);
    if (isUpstreamTimeout(err)) return errors.timeout(ex.service, ex.route?.timeoutMs ?? 0);
    if (isBadRequestArgument(err)) return errors.outboundBadRequest(err);
    if (isProtocolError(err)) return errors.upstreamProtocol(address, err);
    return errors.upstreamReset(address, err);
  }
}

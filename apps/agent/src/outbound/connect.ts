/**
 * connect: sends the call to the chosen endpoint, and names what went wrong when it fails.
 *
 * - HTTP/2 from the app (gRPC, h2c) goes on as HTTP/2 over the endpoint's one multiplexed connection.
 * - HTTP/1.1 to an mTLS endpoint — an agent, the only kind of peer that holds a mesh certificate — also travels over
 *   that HTTP/2 connection (ALPN h2) with the `h2` mesh protocol (the default), marked `x-trellis-orig-proto:
 *   HTTP/1.1`; the destination's agent hands it to its app as HTTP/1.1 again (linkerd2-proxy's orig-proto).
 * - Otherwise, and for upgrades (WebSockets stay HTTP/1.1 end to end), the endpoint's keep-alive undici Pool: a
 *   plaintext endpoint may be an app outside the mesh that speaks HTTP/1.1 only.
 */
import type { TrellisError } from "@trellis/protocol";
import { errors, isBadRequestArgument, isConnectFailure, isConnectRefused, isProtocolError, isUpstreamTimeout } from "../errors.ts";
import type { Exchange, Upstream } from "../proxy/exchange.ts";
import { ORIG_PROTO_HEADER } from "../proxy/headers.ts";
import type { Layer } from "../proxy/layer.ts";

export class ConnectLayer implements Layer, Upstream {
  readonly name = "connect";

  constructor(private readonly meshH2 = true) {}

  onRequest(ex: Exchange): boolean {
    ex.upstream = this;
    const ep = ex.target!.ep;
    if (ex.h2) ex.dispatch(ep.h2());
    else if (this.meshH2 && ep.tls && ex.upgrade === null) {
      // Marked once (a retry runs this again on the same headers).
      if (!ex.origProtoMarked) {
        ex.origProtoMarked = true;
        ex.headers.push(ORIG_PROTO_HEADER, "HTTP/1.1");
      }
      ex.dispatch(ep.h2());
    } else ex.dispatch(ep.pool);
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

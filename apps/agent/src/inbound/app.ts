/**
 * app: forwards to the local app `127.0.0.1:<app-port>`. gRPC calls go as HTTP/2 with prior knowledge (h2c) over one
 * multiplexed connection — gRPC needs HTTP/2; everything else goes as HTTP/1.1 over one keep-alive undici Pool,
 * whatever protocol the caller spoke (as Envoy's default upstream protocol): an HTTP/1.1 app serves a caller that
 * speaks HTTP/2 to its agent.
 */
import type { TrellisError } from "@trellis/protocol";
import type { Pool } from "undici";
import { errors, isBadRequestArgument, isConnectFailure, isConnectRefused, isUpstreamTimeout } from "../errors.ts";
import type { Exchange, Upstream } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import type { H2Client } from "../upstream/h2-client.ts";

export class AppLayer implements Layer, Upstream {
  readonly name = "app";
  constructor(
    private readonly pool: Pool,
    private readonly h2: H2Client,
    private readonly appPort: number,
  ) {}

  onRequest(ex: Exchange): boolean {
    ex.upstream = this;
    ex.dispatch(ex.grpc ? this.h2 : this.pool);
    return false;
  }

  classify(_ex: Exchange, err: Error): TrellisError {
    if (isConnectRefused(err) || isConnectFailure(err)) return errors.appUnavailable(this.appPort, err);
    if (isUpstreamTimeout(err)) return errors.appTimeout(this.appPort, err);
    if (isBadRequestArgument(err)) return errors.inboundBadRequest(err);
    return errors.appReset(this.appPort, err);
  }
}

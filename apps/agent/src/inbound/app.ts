/**
 * app: forwards to the local app `127.0.0.1:<app-port>`: HTTP/1.1 requests over one keep-alive undici Pool, HTTP/2
 * ones (gRPC) as HTTP/2 with prior knowledge over one multiplexed connection — the app gets the protocol its caller
 * spoke.
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
    ex.dispatch(ex.h2 ? this.h2 : this.pool);
    return false;
  }

  classify(_ex: Exchange, err: Error): TrellisError {
    if (isConnectRefused(err) || isConnectFailure(err)) return errors.appUnavailable(this.appPort, err);
    if (isUpstreamTimeout(err)) return errors.appTimeout(this.appPort, err);
    if (isBadRequestArgument(err)) return errors.inboundBadRequest(err);
    return errors.appReset(this.appPort, err);
  }
}

/**
 * ready: fail closed until a snapshot is applied — the inbound side will enforce mTLS and authorization policies
 * from it, so it does not serve without one (503 `not-ready`).
 */
import type { ConfigState } from "../config/state.ts";
import { errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";

export class ReadyLayer implements Layer {
  readonly name = "ready";
  constructor(private readonly config: ConfigState) {}

  onRequest(ex: Exchange): boolean {
    if (this.config.ready) return true;
    ex.fail(errors.inboundNotReady());
    return false;
  }
}

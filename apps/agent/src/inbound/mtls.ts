/**
 * mtls: the per-request half of the mTLS policy. The front door (security/inbound-front.ts) decides per connection;
 * a plaintext keep-alive connection accepted before the service switched to STRICT is refused here, request by request
 * (403 `mtls-required`, connection closed). Also records the caller's identity on the exchange: the SPIFFE id cached on
 * the socket at handshake — never a header.
 */
import type { ConfigState } from "../config/state.ts";
import { errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";

export class MtlsLayer implements Layer {
  readonly name = "mtls";
  constructor(private readonly config: ConfigState) {}

  onRequest(ex: Exchange): boolean {
    if (ex.mtls || this.config.routes!.inbound.mtls !== "STRICT") return true;
    ex.res.shouldKeepAlive = false;
    ex.fail(errors.mtlsRequired());
    return false;
  }
}

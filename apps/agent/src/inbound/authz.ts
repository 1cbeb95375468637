/**
 * authz: applies the service's authorization policy (compiled in policy/authz.ts) on the inbound side after the
 * caller's identity is known. The identity is the SPIFFE id from the peer certificate (cached per connection); a
 * plaintext caller has none and matches no rule (not even `*`: any authenticated identity). Headers never count as identity.
 * Denied → 403 `x-trellis-error: rbac-denied`, counted in /metrics and in telemetry (denials per caller).
 */
import type { ConfigState } from "../config/state.ts";
import { errors } from "../errors.ts";
import type { RateLimitedLog } from "../log.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import type { DenialCounter } from "../telemetry/denials.ts";

export class AuthzLayer implements Layer {
  readonly name = "authz";
  constructor(
    private readonly config: ConfigState,
    private readonly denials: DenialCounter,
    private readonly rateLog: RateLimitedLog,
    private readonly service: string,
  ) {}

  onRequest(ex: Exchange): boolean {
    const authz = this.config.routes!.inbound.authz;
    if (authz === null || authz.allows(ex.peer, ex.req.method ?? "GET", ex.path)) return true;
    const principal = ex.peer ?? "unauthenticated";
    this.denials.count(this.service, principal);
    this.rateLog.warn(`authz:${principal}`, "call denied by authorization policy", {
      principal,
      method: ex.req.method,
      path: ex.path.length > 200 ? ex.path.slice(0, 200) : ex.path,
    });
    ex.fail(errors.rbacDenied(principal));
    return false;
  }
}

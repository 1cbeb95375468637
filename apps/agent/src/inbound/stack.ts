/**
 * The inbound stack, in order (TLS itself is terminated per connection by the front door, security/inbound-front.ts):
 *
 *   observe → ready → mtls → authz → app
 */
import type { Pool } from "undici";
import type { ConfigState } from "../config/state.ts";
import type { RateLimitedLog } from "../log.ts";
import { Stack } from "../proxy/layer.ts";
import type { DenialCounter } from "../telemetry/denials.ts";
import type { EdgeGroup } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import type { Tracer } from "../telemetry/tracing.ts";
import type { H2Client } from "../upstream/h2-client.ts";
import { AppLayer } from "./app.ts";
import { AuthzLayer } from "./authz.ts";
import { MtlsLayer } from "./mtls.ts";
import { InboundObserveLayer } from "./observe.ts";
import { ReadyLayer } from "./ready.ts";

export function inboundStack(deps: {
  config: ConfigState;
  ingressEdge: EdgeGroup;
  proxyErrors: ProxyErrorCounter;
  appPool: Pool;
  appH2: H2Client;
  appPort: number;
  denials: DenialCounter;
  rateLog: RateLimitedLog;
  service: string;
  tracer?: Tracer;
}): Stack {
  return new Stack([
    new InboundObserveLayer(deps.ingressEdge, deps.proxyErrors, deps.tracer ?? null),
    new ReadyLayer(deps.config),
    new MtlsLayer(deps.config),
    new AuthzLayer(deps.config, deps.denials, deps.rateLog, deps.service),
    new AppLayer(deps.appPool, deps.appH2, deps.appPort),
  ]);
}

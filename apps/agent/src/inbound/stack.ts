/**
 * The inbound stack, in order (mTLS termination and authorization will slot in before `app`):
 *
 *   observe → ready → app
 */
import type { Pool } from "undici";
import type { ConfigState } from "../config/state.ts";
import { Stack } from "../proxy/layer.ts";
import type { EdgeGroup } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import type { Tracer } from "../telemetry/tracing.ts";
import { AppLayer } from "./app.ts";
import { InboundObserveLayer } from "./observe.ts";
import { ReadyLayer } from "./ready.ts";

export function inboundStack(deps: {
  config: ConfigState;
  ingressEdge: EdgeGroup;
  proxyErrors: ProxyErrorCounter;
  appPool: Pool;
  appPort: number;
  tracer?: Tracer;
}): Stack {
  return new Stack([
    new InboundObserveLayer(deps.ingressEdge, deps.proxyErrors, deps.tracer ?? null),
    new ReadyLayer(deps.config),
    new AppLayer(deps.appPool, deps.appPort),
  ]);
}

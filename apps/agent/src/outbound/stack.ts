/**
 * The outbound stack, in order. This is the one place that shows what an app's call goes through:
 *
 *   observe → route (match + split) → fault → timeout → mirror → retry → balance → circuit (breaker + outlier) → connect
 *
 * route picks the subset (which version), balance the endpoint inside it (which instance) — kept apart. mirror sends
 * a fire-and-forget copy of a share of the calls to another version (after faults, as Envoy's router mirrors after
 * the fault filter; below timeout, which bounds reading a body the copy needs). retry
 * re-runs balance → circuit → connect for a failed attempt; timeout above it bounds the whole call. mTLS lives in
 * connect: the endpoint's pool (upstream/endpoints.ts) dials TLS and checks the peer's SPIFFE id when the
 * destination's mode is STRICT or PERMISSIVE.
 */

import type { Self } from "../config/routes.ts";
import type { ConfigState } from "../config/state.ts";
import { Stack } from "../proxy/layer.ts";
import type { EdgeRegistry } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import type { Tracer } from "../telemetry/tracing.ts";
import { BalanceLayer } from "./balance.ts";
import { CircuitLayer } from "./circuit.ts";
import { ConnectLayer } from "./connect.ts";
import { FaultLayer } from "./fault.ts";
import { MAX_MIRRORS_IN_FLIGHT, MirrorLayer } from "./mirror.ts";
import { ObserveLayer } from "./observe.ts";
import { RetryLayer } from "./retry.ts";
import { RouteLayer } from "./route.ts";
import { TimeoutLayer } from "./timeout.ts";

export function outboundStack(deps: {
  config: ConfigState;
  edges: EdgeRegistry;
  self: Self;
  proxyErrors: ProxyErrorCounter;
  tracer?: Tracer;
  /** One clock for retry, balance and circuit (tests pass a fake one); by default wall time and performance.now. */
  now?: () => number;
  /** HTTP/1.1 requests travel to other agents over HTTP/2 (the default); false keeps them on HTTP/1.1 pools. */
  meshH2?: boolean;
}): Stack {
  return new Stack([
    new ObserveLayer(deps.proxyErrors, "outbound", deps.tracer ?? null),
    new RouteLayer(deps.config, deps.edges, deps.self),
    new FaultLayer(),
    new TimeoutLayer(),
    new MirrorLayer(MAX_MIRRORS_IN_FLIGHT, deps.now),
    new RetryLayer(deps.now),
    new BalanceLayer(deps.now),
    new CircuitLayer(deps.now),
    new ConnectLayer(deps.meshH2 ?? true),
  ]);
}

/**
 * The outbound stack, in order. This is the one place that shows what an app's call goes through:
 *
 *   observe → route/split → timeout → balance → connect
 *
 * (retry budgets, circuit breaking and mTLS will slot in between balance and connect.)
 */
import type { ConfigState } from "../config/state.ts";
import type { Self } from "../config/routes.ts";
import { Stack } from "../proxy/layer.ts";
import type { EdgeRegistry } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import { BalanceLayer } from "./balance.ts";
import { ConnectLayer } from "./connect.ts";
import { ObserveLayer } from "./observe.ts";
import { RouteLayer } from "./route.ts";
import { TimeoutLayer } from "./timeout.ts";

export function outboundStack(deps: { config: ConfigState; edges: EdgeRegistry; self: Self; proxyErrors: ProxyErrorCounter }): Stack {
  return new Stack([
    new ObserveLayer(deps.proxyErrors, "outbound"),
    new RouteLayer(deps.config, deps.edges, deps.self),
    new TimeoutLayer(),
    new BalanceLayer(),
    new ConnectLayer(),
  ]);
}

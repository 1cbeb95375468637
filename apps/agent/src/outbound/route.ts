/**
 * route: resolves the destination service in the applied snapshot, then picks the subset (version) this call goes
 * to: the first of the service's routes whose path, method, headers and query match decides, else the default split (by
 * weight). Which endpoint inside the subset is the balancer's job, not this layer's. It also notes where a share of
 * the call is mirrored (the matching route's mirror, else the service's), for the mirror layer.
 */

import { chooseFrom, type Self } from "../config/routes.ts";
import type { ConfigState } from "../config/state.ts";
import { errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import type { EdgeRegistry } from "../telemetry/edges.ts";

export class RouteLayer implements Layer {
  readonly name = "route";
  constructor(
    private readonly config: ConfigState,
    private readonly edges: EdgeRegistry,
    private readonly self: Self,
  ) {}

  onRequest(ex: Exchange): boolean {
    const routes = this.config.routes;
    if (routes === null) {
      ex.edge = this.edges.getUnknown(this.self.service, this.self.version, ex.service);
      ex.fail(errors.outboundNotReady());
      return false;
    }
    const route = routes.services.get(ex.service);
    if (route === undefined) {
      ex.edge = this.edges.getUnknown(this.self.service, this.self.version, ex.service);
      ex.fail(errors.unknownService(ex.service));
      return false;
    }
    ex.route = route;
    const rule = route.matchRule(ex.path, ex.headers, ex.req.method ?? "");
    const subset = rule !== null ? chooseFrom(rule.split) : route.chooseSubset();
    ex.mirror = rule !== null && rule.mirror !== null ? rule.mirror : route.mirror;
    ex.subset = subset;
    ex.edge = subset.emptyEdge;
    return true;
  }
}

/**
 * route: resolves the destination service in the applied snapshot, then picks the subset (version) this call goes
 * to: the first of the service's routes whose path, method, headers and query match decides, else the default split (by
 * weight). Which endpoint inside the subset is the balancer's job, not this layer's.
 */

import type { Self } from "../config/routes.ts";
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
    const subset = route.route(ex.path, ex.headers, ex.req.method ?? "");
    ex.subset = subset;
    ex.edge = subset.emptyEdge;
    return true;
  }
}

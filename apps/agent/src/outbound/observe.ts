/** observe: records every finished outbound call on its edge (this agent is the caller, so it reports the edge). */
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";

export class ObserveLayer implements Layer {
  readonly name = "observe";
  constructor(
    private readonly proxyErrors: ProxyErrorCounter,
    private readonly listener: string,
  ) {}

  onRequest(_ex: Exchange): boolean {
    return true; // the exchange stamped its start time when it was created
  }

  onComplete(ex: Exchange): void {
    if (ex.error !== null) this.proxyErrors.count(this.listener, ex.error.proxyError);
    const edge = ex.edge;
    if (edge === null) return;
    edge.record(ex.status, ex.failed, performance.now() - ex.start, ex.bytesIn, ex.bytesOut, ex.target !== null && ex.target.ep.tls);
  }
}

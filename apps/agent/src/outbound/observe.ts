/** observe: records every finished outbound call on its edge (this agent is the caller, so it reports the edge). */
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import type { Tracer } from "../telemetry/tracing.ts";

export class ObserveLayer implements Layer {
  readonly name = "observe";
  constructor(
    private readonly proxyErrors: ProxyErrorCounter,
    private readonly listener: string,
    private readonly tracer: Tracer | null = null,
  ) {}

  onRequest(ex: Exchange): boolean {
    // The exchange stamped its start time when it was created; the client span continues the app's trace context.
    if (this.tracer !== null) this.tracer.begin(ex);
    return true;
  }

  onComplete(ex: Exchange): void {
    const latency = performance.now() - ex.start;
    // The hop ran over mTLS when the endpoint it went to (last attempt) is reached through an mTLS pool.
    ex.mtls = ex.target?.ep.tls === true;
    if (ex.error !== null) this.proxyErrors.count(this.listener, ex.error.proxyError);
    if (this.tracer !== null) this.tracer.end(ex, "client", latency);
    const edge = ex.edge;
    if (edge === null) return;
    // A tunnel's 101 was recorded when it opened (proxy/exchange.ts); now its duration and bytes.
    if (ex.tunnel !== null) edge.connectionClosed(latency, ex.bytesIn, ex.bytesOut);
    else edge.record(ex.status, ex.failed, latency, ex.bytesIn, ex.bytesOut, ex.mtls, ex.grpcStatus);
  }
}

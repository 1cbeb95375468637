/**
 * observe (inbound): calls from other agents (they carry `x-trellis-source`) are reported by the caller's agent, so
 * they are NOT recorded here; calls from outside the mesh are recorded on the `ingress` → this service edge.
 */
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";
import type { EdgeGroup } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import type { Tracer } from "../telemetry/tracing.ts";

export class InboundObserveLayer implements Layer {
  readonly name = "observe";
  constructor(
    private readonly ingress: EdgeGroup,
    private readonly proxyErrors: ProxyErrorCounter,
    private readonly tracer: Tracer | null = null,
  ) {}

  onRequest(ex: Exchange): boolean {
    if (ex.source === null) ex.edge = this.ingress;
    // Server span: child of the caller's span; the app gets a traceparent whose parent is this span.
    if (this.tracer !== null) this.tracer.begin(ex);
    return true;
  }

  onComplete(ex: Exchange): void {
    const latency = performance.now() - ex.start;
    if (ex.error !== null) this.proxyErrors.count("inbound", ex.error.proxyError);
    if (this.tracer !== null) this.tracer.end(ex, "server", latency);
    const edge = ex.edge;
    if (edge === null) return;
    // A tunnel's 101 was recorded when it opened (proxy/exchange.ts); now its duration and bytes.
    if (ex.tunnel !== null) edge.connectionClosed(latency, ex.bytesIn, ex.bytesOut);
    else edge.record(ex.status, ex.failed, latency, ex.bytesIn, ex.bytesOut, ex.mtls, ex.grpcStatus);
  }
}

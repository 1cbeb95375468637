/** The trace context of one hop (`ex.trace`, set by Tracer.begin): a few strings, no span unless the request is kept. */
export class TraceContext {
  constructor(
    readonly traceId: string,
    /** The caller's span id, "" when this hop starts the trace. */
    readonly parentSpanId: string,
    readonly spanId: string,
    readonly sampled: boolean,
  ) {}
}

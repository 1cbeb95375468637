/**
 * What the calls on an edge ended with, as the service page lists them: for gRPC calls their gRPC status codes
 * (`OK 120 · UNAVAILABLE 3`, the outcome a gRPC call carries in its trailers behind an HTTP 200), for the other calls
 * their HTTP status classes. Failures are marked the way telemetry counts them in `errors`: 5xx, and the gRPC codes
 * of @trellis/protocol's GRPC_FAILURE_CODES.
 */
import { isGrpcFailureCode } from "@trellis/protocol";
import { grpcStatusName } from "./graph-model.ts";

export interface EdgeOutcome {
  protocol: "grpc" | "http";
  /** gRPC: the code (`"14"`); HTTP: the class (`"5xx"`). */
  code: string;
  /** `UNAVAILABLE`, `5xx`. */
  label: string;
  count: number;
  failure: boolean;
}

export interface EdgeOutcomeInput {
  requests: number;
  /** Requests per HTTP status class (`2xx` …), gRPC calls included. */
  byStatus: Record<string, number>;
  /** gRPC calls per gRPC status code; absent when the edge carried none. */
  grpcStatus?: Record<string, number>;
}

/** gRPC codes most frequent first, then the HTTP classes of the calls that were not gRPC, in class order. */
export function edgeOutcomes(e: EdgeOutcomeInput): EdgeOutcome[] {
  const grpc: EdgeOutcome[] = Object.entries(e.grpcStatus ?? {})
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))
    .map(([code, count]) => ({ protocol: "grpc", code, label: grpcStatusName(code), count, failure: isGrpcFailureCode(Number(code)) }));
  // Every gRPC call is answered with HTTP 200 (proxy-made failures too: trailers-only), so it sits in 2xx.
  let grpcLeft = grpc.reduce((sum, o) => sum + o.count, 0);
  const http: EdgeOutcome[] = [];
  for (const [cls, n] of Object.entries(e.byStatus).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const taken = cls === "2xx" ? Math.min(n, grpcLeft) : 0;
    grpcLeft -= taken;
    const count = n - taken;
    if (count > 0) http.push({ protocol: "http", code: cls, label: cls, count, failure: cls === "5xx" });
  }
  return [...grpc, ...http];
}

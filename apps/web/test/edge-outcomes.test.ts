/** The service page's outcomes of an edge: gRPC status codes for gRPC calls, HTTP classes for the rest. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import { LiveView } from "../server/live-view.ts";
import { TelemetryStore } from "../server/telemetry-store.ts";
import { edgeOutcomes } from "../shared/edge-outcomes.ts";

test("a gRPC edge lists its gRPC codes (most frequent first, failures marked), not the 2xx they travelled in", () => {
  const out = edgeOutcomes({ requests: 123, byStatus: { "2xx": 123 }, grpcStatus: { "0": 100, "14": 3, "5": 20 } });
  assert.deepEqual(out, [
    { protocol: "grpc", code: "0", label: "OK", count: 100, failure: false },
    { protocol: "grpc", code: "5", label: "NOT_FOUND", count: 20, failure: false },
    { protocol: "grpc", code: "14", label: "UNAVAILABLE", count: 3, failure: true },
  ]);
});

test("an HTTP edge lists its status classes, 5xx as failures; an edge carrying both shows the non-gRPC calls by class", () => {
  assert.deepEqual(edgeOutcomes({ requests: 12, byStatus: { "5xx": 2, "2xx": 10 } }), [
    { protocol: "http", code: "2xx", label: "2xx", count: 10, failure: false },
    { protocol: "http", code: "5xx", label: "5xx", count: 2, failure: true },
  ]);
  const mixed = edgeOutcomes({ requests: 20, byStatus: { "2xx": 15, "4xx": 5 }, grpcStatus: { "0": 9, "4": 1 } });
  assert.deepEqual(
    mixed.map((o) => `${o.protocol}:${o.label}=${o.count}${o.failure ? "!" : ""}`),
    ["grpc:OK=9", "grpc:DEADLINE_EXCEEDED=1!", "http:2xx=5", "http:4xx=5"],
  );
  assert.deepEqual(edgeOutcomes({ requests: 0, byStatus: {} }), []);
});

test("the service stats the page reads carry each edge's gRPC codes from the live telemetry, inbound and outbound", () => {
  const store = new TelemetryStore();
  const live = new LiveView(store);
  const now = Date.now();
  const latency = emptyHistogram();
  observe(latency, 2);
  const edge = (source: string, destination: string, grpcStatus?: Record<string, number>) => ({
    source,
    sourceVersion: "v1",
    destination,
    destinationVersion: "v1",
    statusClass: "2xx" as const,
    requests: 5,
    errors: grpcStatus?.["14"] ?? 0,
    bytesIn: 0,
    bytesOut: 0,
    mtls: 5,
    latency,
    ...(grpcStatus ? { grpcStatus } : {}),
  });
  // A few seconds ago: settled telemetry, inside the window.
  store.ingest({ windowStart: now - 4_000, edges: [edge("cart", "shipping", { "0": 4, "14": 1 }), edge("web", "cart")] }, now);
  const cart = live.serviceStats("cart", 10, 30, now);
  assert.deepEqual(
    cart.edgesOut.map((e) => [e.destination, e.grpcStatus]),
    [["shipping", { "0": 4, "14": 1 }]],
  );
  assert.deepEqual(
    cart.edgesIn.map((e) => [e.source, e.grpcStatus]),
    [["web", undefined]],
    "no gRPC on web → cart",
  );
  const shipping = live.serviceStats("shipping", 10, 30, now);
  assert.deepEqual(
    edgeOutcomes(shipping.edgesIn[0]).map((o) => `${o.label} ${o.count}`),
    ["OK 4", "UNAVAILABLE 1"],
  );
});

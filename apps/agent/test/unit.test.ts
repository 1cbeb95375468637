/** In-process unit tests of the pieces with logic worth pinning down on their own. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUCKET_COUNT, type MeshSnapshotInput, meshSnapshotSchema, telemetryFrameSchema } from "@trellis/protocol";
import { renderMetrics } from "../src/admin/metrics.ts";
import { compileRoutes } from "../src/config/routes.ts";
import { serviceOf } from "../src/outbound/decode.ts";
import { pickTarget } from "../src/outbound/pickers.ts";
import { compileAuthz } from "../src/policy/authz.ts";
import { filterRequestHeaders, filterResponseHeaders } from "../src/proxy/headers.ts";
import { EdgeRegistry } from "../src/telemetry/edges.ts";
import { ProxyErrorCounter } from "../src/telemetry/proxy-errors.ts";
import { TelemetryReporter } from "../src/telemetry/reporter.ts";
import { EndpointRegistry } from "../src/upstream/endpoints.ts";

test("request headers: hop-by-hop and Connection-nominated headers dropped, Host/source rewritten, body detected", () => {
  const info = { source: null, host: null, hasBody: false };
  const out = filterRequestHeaders(
    [
      "Host",
      "catalog:80",
      "Connection",
      "keep-alive, X-Hop",
      "X-Hop",
      "1",
      "TE",
      "trailers",
      "Keep-Alive",
      "timeout=5",
      "Proxy-Authorization",
      "x",
      "Transfer-Encoding",
      "chunked",
      "x-trellis-source",
      "evil/v0",
      "X-Keep",
      "yes",
      "Upgrade",
      "h2c",
    ],
    info,
    "catalog",
    "shop/v1",
  );
  assert.deepEqual(out, ["Host", "catalog", "X-Keep", "yes", "x-trellis-source", "shop/v1"]);
  assert.equal(info.host, "catalog:80");
  assert.equal(info.source, "evil/v0");
  assert.equal(info.hasBody, true);
  const inbound = { source: null, host: null, hasBody: false };
  assert.deepEqual(filterRequestHeaders(["x-trellis-source", "shop/v1", "Content-Length", "0"], inbound, null, null), [
    "x-trellis-source",
    "shop/v1",
    "Content-Length",
    "0",
  ]);
  assert.equal(inbound.hasBody, false);
  const res = filterResponseHeaders(
    ["Connection", "keep-alive", "Keep-Alive", "timeout=5", "Set-Cookie", "a", "Set-Cookie", "b", "Transfer-Encoding", "chunked"].map((s) =>
      Buffer.from(s),
    ),
  );
  assert.deepEqual(res, ["Set-Cookie", "a", "Set-Cookie", "b"]);
});

test("service name from an authority", () => {
  assert.equal(serviceOf("catalog"), "catalog");
  assert.equal(serviceOf("Catalog:8080"), "catalog");
  assert.equal(serviceOf("catalog."), "catalog");
  assert.equal(serviceOf("[::1]:80"), "[::1]:80");
});

function routesFor(services: MeshSnapshotInput["services"]) {
  const snap = meshSnapshotSchema.parse({ version: 1, service: "shop", services, issuedAt: new Date().toISOString() });
  return compileRoutes(snap, { service: "shop", version: "v1" }, new EndpointRegistry(), new EdgeRegistry());
}

test("split picks subsets by weight; balancing stays inside the subset", () => {
  const routes = routesFor([
    {
      name: "catalog",
      versions: ["v1", "v2"],
      endpoints: [
        { address: "127.0.0.1:1", version: "v1", instanceId: "a" },
        { address: "127.0.0.1:2", version: "v2", instanceId: "b" },
      ],
      split: [
        { version: "v1", weight: 75 },
        { version: "v2", weight: 25 },
      ],
    },
  ]);
  const route = routes.services.get("catalog")!;
  let v2 = 0;
  for (let i = 0; i < 20_000; i++) {
    const set = route.chooseSubset();
    const t = pickTarget(set, "p2c", performance.now(), true)!;
    assert.equal(t.version, set.version);
    if (t.version === "v2") v2++;
  }
  assert.ok(Math.abs(v2 / 20_000 - 0.25) < 0.015, `v2 share ${v2 / 20_000}`);
});

test("pickers skip ejected endpoints; with all ejected, panic picks the one whose ejection ends first", () => {
  const routes = routesFor([
    {
      name: "catalog",
      versions: ["v1"],
      endpoints: [1, 2, 3].map((p) => ({ address: `127.0.0.1:${p}`, version: "v1", instanceId: String(p) })),
    },
  ]);
  const set = routes.services.get("catalog")!.all;
  const now = performance.now();
  set.targets[0].ep.eject(now);
  set.targets[1].ep.eject(now);
  for (const lb of ["p2c", "round-robin", "least-request"] as const)
    for (let i = 0; i < 50; i++) assert.equal(pickTarget(set, lb, now, false), set.targets[2], lb);
  set.targets[2].ep.eject(now);
  set.targets[2].ep.eject(now); // second failure: longer ejection
  assert.equal(pickTarget(set, "p2c", now, false), null);
  assert.ok([set.targets[0], set.targets[1]].includes(pickTarget(set, "p2c", now, true)!));
});

test("telemetry: window per status class, valid frame, reset after each flush; cumulative kept for /metrics", () => {
  const edges = new EdgeRegistry(2);
  const g = edges.get("shop", "v1", "catalog", "v1");
  g.record(200, false, 0.3, 100, 10, false);
  g.record(201, false, 7, 100, 10, false);
  g.record(503, true, 1, 5, 0, false);
  const sent: unknown[] = [];
  const reporter = new TelemetryReporter(edges, (f) => {
    sent.push(f);
    return true;
  });
  reporter.flush();
  const frame = telemetryFrameSchema.parse(sent[0]);
  const byClass = Object.fromEntries(frame.window.edges.map((e) => [e.statusClass, e]));
  assert.equal(byClass["2xx"].requests, 2);
  assert.equal(byClass["2xx"].errors, 0);
  assert.equal(byClass["2xx"].bytesIn, 200);
  assert.equal(byClass["5xx"].errors, 1);
  assert.ok(byClass["2xx"].latency.counts.length <= BUCKET_COUNT);
  assert.equal(
    byClass["2xx"].latency.counts.reduce((a, b) => a + b, 0),
    2,
  );
  reporter.flush();
  assert.equal(telemetryFrameSchema.parse(sent[1]).window.edges.length, 0, "window reset");
  assert.equal(g.codes.get(201), 1);
  // unknown destinations are capped
  edges.getUnknown("shop", "v1", "a");
  edges.getUnknown("shop", "v1", "b");
  assert.equal(edges.getUnknown("shop", "v1", "c").destination, "unknown");
  assert.equal(edges.getUnknown("shop", "v1", "Not A Name").destination, "unknown");
});

test("metrics text: cumulative buckets end at +Inf = count, one series per label set", () => {
  const edges = new EdgeRegistry();
  const g = edges.get("shop", "v1", "catalog", "v2");
  for (const ms of [0.05, 0.3, 2, 50_000]) g.record(200, false, ms, 1, 1, false);
  const text = renderMetrics(edges, new ProxyErrorCounter(), {
    configVersion: 3,
    controlConnected: false,
    ready: true,
    endpoints: 0,
    startTimeSeconds: 1,
  });
  const labels = 'source_service="shop",source_version="v1",destination_service="catalog",destination_version="v2"';
  assert.match(text, new RegExp(`^request_duration_seconds_bucket\\{${labels},le="0.0001"\\} 1$`, "m"));
  assert.match(text, new RegExp(`^request_duration_seconds_bucket\\{${labels},le="0.0005"\\} 2$`, "m"));
  assert.match(text, new RegExp(`^request_duration_seconds_bucket\\{${labels},le="30"\\} 3$`, "m"));
  assert.match(text, new RegExp(`^request_duration_seconds_bucket\\{${labels},le="\\+Inf"\\} 4$`, "m"));
  assert.match(text, new RegExp(`^request_duration_seconds_count\\{${labels}\\} 4$`, "m"));
  assert.match(text, new RegExp(`^requests_total\\{${labels},response_code="200"\\} 4$`, "m"));
  const series = text
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.slice(0, l.lastIndexOf(" ")));
  assert.equal(new Set(series).size, series.length, "no duplicate series");
});

test("authz path rules match whole segments of canonical paths only", () => {
  const authz = compileAuthz({ rules: [{ principals: ["*"], methods: [], paths: ["/public"] }] });
  const caller = "spiffe://t/service/any";
  for (const ok of ["/public", "/public/x", "/public?q=1", "/public/a/b?x=/../"]) assert.equal(authz.allows(caller, "GET", ok), true, ok);
  for (const denied of ["/publicity", "/public/../admin", "/public/%2e%2e/admin", "/public%2fadmin", "/public/./x", "/admin"])
    assert.equal(authz.allows(caller, "GET", denied), false, denied);
  const root = compileAuthz({ rules: [{ principals: ["spiffe://t/service/web"], methods: ["GET"], paths: ["/"] }] });
  assert.equal(root.allows("spiffe://t/service/web", "GET", "/anything"), true);
  assert.equal(root.allows("spiffe://t/service/web", "POST", "/anything"), false);
  assert.equal(root.allows(null, "GET", "/anything"), false);
});

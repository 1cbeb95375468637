/** readSlice and EndpointIndex: the pure part of discovery. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { EndpointIndex, readSlice } from "../src/index.ts";

const slice = (over: Partial<V1EndpointSlice>): V1EndpointSlice => ({
  metadata: { name: "web-abc", namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  endpoints: [{ addresses: ["10.0.0.5"], targetRef: { kind: "Pod", name: "web-1" } }],
  ports: [
    { name: "metrics", port: 9090, protocol: "TCP" },
    { name: "http", port: 8080, protocol: "TCP" },
  ],
  ...over,
});

test("ready absent means ready (as the API documents); the target's namespace defaults to the slice's", () => {
  assert.deepEqual(readSlice(slice({}), ["http"])?.endpoints, [
    { address: "10.0.0.5:8080", instanceId: "web-1.shop", pod: { namespace: "shop", name: "web-1" } },
  ]);
});

test("ports by name in order of preference; none matching serves nothing", () => {
  const ports = [...(slice({}).ports ?? []), { name: "trellis-inbound", port: 15006, protocol: "TCP" }];
  assert.equal(readSlice(slice({ ports }), ["trellis-inbound", "http"])?.endpoints[0].address, "10.0.0.5:15006");
  assert.deepEqual(readSlice(slice({}), ["grpc"])?.endpoints, []);
  assert.deepEqual(readSlice(slice({ ports: [{ name: "http", port: 8080, protocol: "UDP" }] }), ["http"])?.endpoints, []);
});

test("IPv6 addresses are bracketed; FQDN slices and slices of no Service contribute nothing", () => {
  const v6 = slice({ addressType: "IPv6", endpoints: [{ addresses: ["fd00::5"], conditions: { ready: true } }] });
  assert.deepEqual(readSlice(v6, ["http"])?.endpoints, [{ address: "[fd00::5]:8080", instanceId: "fd00::5", pod: null }]);
  assert.deepEqual(readSlice(slice({ addressType: "FQDN", endpoints: [{ addresses: ["db.example"] }] }), ["http"])?.endpoints, []);
  assert.equal(readSlice(slice({ metadata: { name: "x", namespace: "shop", labels: {} } }), ["http"]), null);
});

test("the index joins a service's slices, dedups instances, and reports which services a pod's version change affects", () => {
  const index = new EndpointIndex();
  const a = readSlice(slice({}), ["http"])!;
  const b = readSlice(slice({ metadata: { name: "web-def", namespace: "shop", labels: { "kubernetes.io/service-name": "web" } } }), ["http"])!;
  assert.deepEqual(index.putSlice(a), ["web"]);
  index.putSlice(b);
  assert.equal(index.endpoints("web").length, 1, "the same pod in two slices is one endpoint");
  assert.deepEqual(index.endpoints("web", true), [], "not known as meshed yet");
  assert.deepEqual(index.putPodVersion({ namespace: "shop", name: "web-1" }, "v3"), ["web"]);
  assert.deepEqual(index.putPodVersion({ namespace: "shop", name: "web-1" }, "v3"), [], "no change, no notification");
  assert.deepEqual(index.endpoints("web", true), [{ address: "10.0.0.5:8080", version: "v3", instanceId: "web-1.shop" }]);
  assert.deepEqual(index.removeSlice(a.key), ["web"]);
  index.removeSlice(b.key);
  assert.deepEqual(index.services(), []);
});

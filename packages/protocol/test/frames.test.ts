import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyHistogram, meshSnapshotSchema, parseAgentFrame, parseConsoleFrame, statusClassOf } from "../src/index.ts";

const hello = {
  type: "hello",
  protocol: 1,
  token: "t",
  service: "catalog",
  version: "v1",
  instanceId: "catalog-1",
  inboundAddress: "127.0.0.1:4000",
  ports: { inbound: 4000, outbound: 4001, admin: 4002, app: 5000 },
  agentVersion: "0.1.0",
  configVersion: 0,
};

test("a valid hello parses", () => {
  const r = parseAgentFrame(JSON.stringify(hello));
  assert.equal(r.ok, true);
});

test("invalid frames are rejected with a message naming the field", () => {
  const notJson = parseAgentFrame("{nope");
  assert.deepEqual(notJson, { ok: false, error: "frame is not valid JSON" });
  const badService = parseAgentFrame(JSON.stringify({ ...hello, service: "Not A Label" }));
  assert.equal(badService.ok, false);
  assert.match((badService as { error: string }).error, /^service: /);
  const unknownType = parseAgentFrame(JSON.stringify({ type: "steal" }));
  assert.equal(unknownType.ok, false);
});

test("telemetry frames carry edges with histograms", () => {
  const r = parseAgentFrame(
    JSON.stringify({
      type: "telemetry",
      window: {
        windowStart: Date.now(),
        windowMs: 1000,
        edges: [
          {
            source: "web",
            sourceVersion: "v1",
            destination: "catalog",
            destinationVersion: "v1",
            statusClass: "2xx",
            requests: 3,
            errors: 0,
            bytesIn: 10,
            bytesOut: 300,
            latency: emptyHistogram(),
          },
        ],
      },
    }),
  );
  assert.ok(r.ok && r.frame.type === "telemetry", "parses as a telemetry frame");
  assert.equal(r.frame.window.edges[0].mtls, 0, "mtls defaults to 0");
});

test("console frames: snapshot and error", () => {
  assert.equal(parseConsoleFrame(JSON.stringify({ type: "snapshot", version: 3, nonce: "n", snapshot: {} })).ok, true);
  assert.equal(parseConsoleFrame(JSON.stringify({ type: "error", code: "X", message: "m" })).ok, true);
  assert.equal(parseConsoleFrame(JSON.stringify({ type: "ack", version: 1, nonce: "n" })).ok, false);
});

test("snapshot: split weights must sum to 100 and name known versions", () => {
  const base = {
    version: 1,
    service: "web",
    issuedAt: new Date().toISOString(),
    services: [{ name: "payments", versions: ["v1", "v2"], endpoints: [] }],
  };
  assert.equal(meshSnapshotSchema.safeParse(base).success, true);
  const badSum = meshSnapshotSchema.safeParse({
    ...base,
    services: [
      {
        ...base.services[0],
        split: [
          { version: "v1", weight: 50 },
          { version: "v2", weight: 40 },
        ],
      },
    ],
  });
  assert.equal(badSum.success, false);
  assert.match(JSON.stringify(badSum.error?.issues), /sum to 100/);
  const unknown = meshSnapshotSchema.safeParse({
    ...base,
    services: [{ ...base.services[0], split: [{ version: "v9", weight: 100 }] }],
  });
  assert.equal(unknown.success, false);
  assert.deepEqual(unknown.error?.issues[0].path, ["services", 0, "split", 0, "version"]);
});

test("status classes", () => {
  assert.equal(statusClassOf(204), "2xx");
  assert.equal(statusClassOf(404), "4xx");
  assert.equal(statusClassOf(503), "5xx");
});

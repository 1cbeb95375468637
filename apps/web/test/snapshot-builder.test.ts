import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { meshSnapshotSchema } from "@trellis/protocol";
import { buildSnapshot, buildTopology, snapshotSerializer, topologyKey } from "../server/snapshot-builder.ts";

describe("snapshot builder", () => {
  const services = [
    { name: "web", versions: [{ version: "v1" }] },
    { name: "catalog", versions: [{ version: "v1" }, { version: "v2" }] },
  ];
  const endpoints = [
    { instanceId: "c2", service: "catalog", version: "v2", address: "127.0.0.1:9002" },
    { instanceId: "c1", service: "catalog", version: "v1", address: "127.0.0.1:9001" },
    { instanceId: "w1", service: "web", version: "v1", address: "127.0.0.1:9000" },
  ];

  test("topology: every service, all versions, live endpoints, sorted canonically", () => {
    const t = buildTopology(services, endpoints);
    assert.deepEqual(t, [
      {
        name: "catalog",
        versions: ["v1", "v2"],
        endpoints: [
          { address: "127.0.0.1:9001", version: "v1", instanceId: "c1" },
          { address: "127.0.0.1:9002", version: "v2", instanceId: "c2" },
        ],
      },
      { name: "web", versions: ["v1"], endpoints: [{ address: "127.0.0.1:9000", version: "v1", instanceId: "w1" }] },
    ]);
    assert.equal(topologyKey(t), topologyKey(buildTopology([...services].reverse(), [...endpoints].reverse())));
  });

  test("an endpoint of an unregistered service or version adds it; duplicate instance ids collapse", () => {
    const t = buildTopology([], [...endpoints, { instanceId: "c1", service: "catalog", version: "v1", address: "127.0.0.1:9001" }]);
    assert.deepEqual(
      t.map((s) => s.name),
      ["catalog", "web"],
    );
    assert.equal(t[0].endpoints.length, 2);
    assert.deepEqual(t[0].versions, ["v1", "v2"]);
  });

  test("snapshot for an agent: its own service plus every service, valid per the protocol schema", () => {
    const issuedAt = new Date("2026-11-21T10:00:00Z");
    const snap = buildSnapshot({ version: 7, service: "web", topology: buildTopology(services, endpoints), issuedAt });
    assert.equal(snap.version, 7);
    assert.equal(snap.service, "web");
    assert.equal(snap.issuedAt, issuedAt.toISOString());
    assert.deepEqual(
      snap.services.map((s) => s.name),
      ["catalog", "web"],
    );
    assert.equal(snap.services[0].mtls, "DISABLE");
    assert.equal(snap.services[0].loadBalancer, "p2c");
    assert.ok(meshSnapshotSchema.safeParse(snap).success);
  });

  test("the agent's own service is present even before it is in the topology", () => {
    const snap = buildSnapshot({ version: 1, service: "newbie", topology: [], issuedAt: new Date() });
    assert.deepEqual(
      snap.services.map((s) => s.name),
      ["newbie"],
    );
  });

  test("an invalid snapshot throws instead of being sent", () => {
    assert.throws(() =>
      buildSnapshot({
        version: 1,
        service: "web",
        topology: [{ name: "Not A DNS Label", versions: [], endpoints: [] }],
        issuedAt: new Date(),
      }),
    );
  });
});

test("snapshotSerializer: each agent's snapshot is the version's shared one with its own service, valid and complete", () => {
  const topology = buildTopology(
    [
      { name: "web", versions: ["v1"] },
      { name: "payments", versions: ["v1", "v2"] },
    ],
    [
      { instanceId: "w1", service: "web", version: "v1", address: "127.0.0.1:4001" },
      { instanceId: "p1", service: "payments", version: "v1", address: "127.0.0.1:4002" },
    ],
  );
  const issuedAt = new Date("2026-11-21T12:00:00.000Z");
  const serialize = snapshotSerializer({ version: 9, topology, issuedAt });
  const forWeb = JSON.parse(serialize("web"));
  const forPayments = JSON.parse(serialize("payments"));
  assert.equal(forWeb.service, "web");
  assert.equal(forPayments.service, "payments");
  assert.deepEqual({ ...forWeb, service: "x" }, { ...forPayments, service: "x" }, "identical apart from the service");
  assert.equal(meshSnapshotSchema.safeParse(forWeb).success, true);
  assert.deepEqual(forWeb, JSON.parse(JSON.stringify(buildSnapshot({ version: 9, service: "web", topology, issuedAt }))));
  // A service the version does not know yet still gets a valid snapshot naming it: the shared one with its own empty
  // entry appended, exactly what a build of its own gives (without building the whole snapshot again).
  const lateJson = serialize("late-svc");
  const late = JSON.parse(lateJson);
  assert.equal(late.service, "late-svc");
  assert.deepEqual((({ name, versions, endpoints, mtls }) => ({ name, versions, endpoints, mtls }))(late.services.at(-1)), {
    name: "late-svc",
    versions: [],
    endpoints: [],
    mtls: "DISABLE",
  });
  assert.equal(meshSnapshotSchema.safeParse(late).success, true);
  assert.equal(lateJson, JSON.stringify(buildSnapshot({ version: 9, service: "late-svc", topology, issuedAt, authorizationOf: "all" })));
  assert.deepEqual({ ...late, service: "x", services: late.services.slice(0, -1) }, { ...forWeb, service: "x" });
});

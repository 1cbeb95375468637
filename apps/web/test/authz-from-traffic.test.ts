/** "Allow the callers seen": the pure generator of authorization rules from observed traffic (shared/authz-from-traffic.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateAuthzFromTraffic, type ObservedCaller } from "../shared/authz-from-traffic.ts";

const TD = "trellis.local";
const id = (s: string) => `spiffe://${TD}/service/${s}`;
const seen = (source: string, requests: number, mtls: number | null = requests, sourceVersion = "v1"): ObservedCaller => ({
  source,
  sourceVersion,
  requests,
  mtls,
});

test("every mesh caller gets one allow rule for its identity; versions of a caller are merged; sorted by caller", () => {
  const g = generateAuthzFromTraffic({
    service: "payments",
    trustDomain: TD,
    observed: [seen("web", 40), seen("cart", 3), seen("web", 10, 10, "v2")],
    current: [],
  });
  assert.deepEqual(g.added, [
    { principals: [id("cart")], methods: [], paths: [] },
    { principals: [id("web")], methods: [], paths: [] },
  ]);
  assert.deepEqual(g.rules, g.added);
  assert.deepEqual(
    g.callers.map((c) => [c.source, c.requests, c.status, c.mtlsPct]),
    [
      ["cart", 3, "new-rule", 100],
      ["web", 50, "new-rule", 100],
    ],
  );
  // The diff reads as the config history will: each new rule, and the switch to an allow-list.
  assert.deepEqual(g.diff, [`+ allow ${id("cart")}`, `+ allow ${id("web")}`, "~ authorization: every caller allowed → only the listed callers"]);
});

test("existing rules are kept; callers they already admit get no rule; restricted rules do not count as admitting", () => {
  const g = generateAuthzFromTraffic({
    service: "payments",
    trustDomain: TD,
    observed: [seen("web", 5), seen("cart", 5), seen("checkout", 5)],
    current: [
      { principals: [id("web")], methods: [], paths: [] },
      { principals: [id("cart")], methods: ["GET"], paths: [] },
    ],
  });
  assert.deepEqual(
    g.added.map((r) => r.principals[0]),
    [id("cart"), id("checkout")],
  );
  assert.equal(g.rules.length, 4);
  assert.deepEqual(g.rules.slice(0, 2), [
    { principals: [id("web")], methods: [], paths: [] },
    { principals: [id("cart")], methods: ["GET"], paths: [] },
  ]);
  assert.equal(g.callers.find((c) => c.source === "web")?.status, "already-allowed");
  assert.deepEqual(g.diff, [`+ allow ${id("cart")}`, `+ allow ${id("checkout")}`]);

  const star = generateAuthzFromTraffic({
    service: "p",
    trustDomain: TD,
    observed: [seen("web", 1)],
    current: [{ principals: ["*"], methods: [], paths: [] }],
  });
  assert.deepEqual(star.added, []);
  assert.deepEqual(star.diff, []);
});

test("ingress and unknown callers have no identity: listed, never turned into a rule", () => {
  const g = generateAuthzFromTraffic({
    service: "web",
    trustDomain: TD,
    observed: [seen("ingress", 100, 0, "unknown"), seen("unknown", 2, 0)],
    current: [],
  });
  assert.deepEqual(g.added, []);
  assert.deepEqual(g.diff, []);
  assert.deepEqual(
    g.callers.map((c) => [c.source, c.principal, c.status]),
    [
      ["ingress", null, "no-identity"],
      ["unknown", null, "no-identity"],
    ],
  );
});

test("plaintext share is reported (an allow-list needs mTLS to see the identity); unknown mTLS (rollups) stays unknown", () => {
  const g = generateAuthzFromTraffic({
    service: "p",
    trustDomain: TD,
    observed: [seen("web", 10, 7), seen("cart", 4, null), seen("cart", 6, 6)],
    current: [],
  });
  const web = g.callers.find((c) => c.source === "web")!;
  assert.equal(web.mtlsPct, 70);
  assert.match(web.note, /30% of its calls came in plaintext/);
  const cart = g.callers.find((c) => c.source === "cart")!;
  assert.equal(cart.requests, 10);
  assert.equal(cart.mtlsPct, null);
});

test("minRequests leaves out callers below it", () => {
  const g = generateAuthzFromTraffic({ service: "p", trustDomain: TD, observed: [seen("web", 10), seen("probe", 1)], current: [], minRequests: 2 });
  assert.deepEqual(
    g.callers.map((c) => c.source),
    ["web"],
  );
});

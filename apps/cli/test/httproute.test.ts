/** HTTPRoute (mesh form) → Trellis routes: every match kind the protocol routes on, checked with its own schema. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkServicePolicy } from "@trellis/protocol";
import { translateHttpRoute } from "../src/httproute.ts";

test("path types, method and query parameters become the protocol's route conditions", () => {
  const t = translateHttpRoute({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "pay" },
    spec: {
      parentRefs: [{ kind: "Service", name: "payments" }],
      rules: [
        {
          matches: [
            { path: { type: "Exact", value: "/healthz" }, method: "GET" },
            { path: { type: "RegularExpression", value: "/orders/[0-9]+" }, queryParams: [{ name: "beta", value: "on" }] },
            { path: { value: "/api" } },
          ],
          backendRefs: [{ name: "payments-v2", weight: 100 }],
        },
        { backendRefs: [{ name: "payments-v1", weight: 100 }] },
      ],
    },
  });
  assert.ok(t.ok);
  const check = checkServicePolicy(t.value.policy, ["v1", "v2"], "payments");
  assert.ok(check.ok, JSON.stringify(check));
  assert.deepEqual(
    check.policy.routes?.map((r) => r.match),
    [{ pathExact: "/healthz", method: "GET" }, { pathRegex: "/orders/[0-9]+", query: [{ name: "beta", value: "on" }] }, { pathPrefix: "/api" }],
  );
  const bad = translateHttpRoute({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "x" },
    spec: {
      parentRefs: [{ kind: "Service", name: "p" }],
      rules: [{ matches: [{ path: { type: "Glob", value: "/*" } }], backendRefs: [{ name: "p-v1" }] }],
    },
  });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.issues[0].path, ["spec", "rules", 0, "matches", 0, "path", "type"]);
});

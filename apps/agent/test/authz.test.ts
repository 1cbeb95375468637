/** Authorization on the inbound stack, in-process: who a rule admits. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileAuthz } from "../src/policy/authz.ts";
import { inboundHarness, proxyErrorOf } from "./inproc.ts";

const WEB = "spiffe://trellis.local/service/web";

test('"*" admits any authenticated mesh identity, never a plaintext caller (403 rbac-denied)', () => {
  const h = inboundHarness("catalog");
  h.apply({
    version: 1,
    service: "catalog",
    issuedAt: new Date().toISOString(),
    services: [
      {
        name: "catalog",
        versions: ["v1"],
        endpoints: [],
        mtls: "PERMISSIVE",
        authorization: { rules: [{ principals: ["*"], methods: [], paths: [] }] },
      },
    ],
  });
  const plaintext = h.send(null, "/items");
  assert.equal(plaintext.status, 403);
  assert.equal(proxyErrorOf(plaintext), "rbac-denied");
  assert.equal(h.app.calls.length, 0, "the app never saw the plaintext call");
  const mtls = h.send(WEB, "/items");
  assert.equal(mtls.status, 200);
  assert.equal(h.app.calls.length, 1);
});

test('compiled rules: "*" needs an identity; listed principals match exactly', () => {
  const any = compileAuthz({ rules: [{ principals: ["*"], methods: ["GET"], paths: [] }] });
  assert.equal(any.allows(null, "GET", "/"), false);
  assert.equal(any.allows(WEB, "GET", "/"), true);
  assert.equal(any.allows(WEB, "POST", "/"), false);
});

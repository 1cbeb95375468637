/** mTLS staging (pure): STRICT <-> DISABLE goes through PERMISSIVE until every agent acked. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MtlsMode } from "@trellis/protocol";
import { planMtls, stageComplete } from "../server/control-plane/mtls-staging.ts";

const modes = (o: Record<string, MtlsMode>) => new Map(Object.entries(o));

describe("mTLS staging", () => {
  test("the first round pushes the desired modes as they are; services without an override get the mesh default", () => {
    const plan = planMtls(["a", "b"], modes({ a: "STRICT" }), new Map());
    assert.deepEqual(Object.fromEntries(plan.effective), { a: "STRICT", b: "PERMISSIVE" }, "PERMISSIVE unless said otherwise");
    assert.equal(plan.staging, false);
    const strict = planMtls(["a", "b"], modes({ a: "DISABLE" }), new Map(), "STRICT");
    assert.deepEqual(Object.fromEntries(strict.effective), { a: "DISABLE", b: "STRICT" }, "the override wins over the default");
  });

  test("a mesh default switched from PERMISSIVE to STRICT is pushed as it is (no stage needed)", () => {
    const plan = planMtls(["a"], new Map(), modes({ a: "PERMISSIVE" }), "STRICT");
    assert.deepEqual(Object.fromEntries(plan.effective), { a: "STRICT" });
    assert.equal(plan.staging, false);
  });

  for (const [from, to] of [
    ["STRICT", "DISABLE"],
    ["DISABLE", "STRICT"],
  ] as const) {
    test(`${from} → ${to} is held in PERMISSIVE for one stage, then pushed`, () => {
      const staged = planMtls(["a", "b"], modes({ a: to, b: "STRICT" }), modes({ a: from, b: "STRICT" }));
      assert.deepEqual(Object.fromEntries(staged.effective), { a: "PERMISSIVE", b: "STRICT" });
      assert.equal(staged.staging, true);
      const done = planMtls(["a", "b"], modes({ a: to, b: "STRICT" }), staged.effective);
      assert.deepEqual(Object.fromEntries(done.effective), { a: to, b: "STRICT" });
      assert.equal(done.staging, false);
    });
  }

  test("changes to or from PERMISSIVE need no stage", () => {
    for (const [from, to] of [
      ["PERMISSIVE", "STRICT"],
      ["PERMISSIVE", "DISABLE"],
      ["STRICT", "PERMISSIVE"],
      ["DISABLE", "PERMISSIVE"],
    ] as const) {
      const plan = planMtls(["a"], modes({ a: to }), modes({ a: from }));
      assert.equal(plan.effective.get("a"), to, `${from} → ${to}`);
      assert.equal(plan.staging, false);
    }
  });

  test("a STRICT service whose override is removed gets the mesh default (PERMISSIVE: no stage needed)", () => {
    const plan = planMtls(["a"], new Map(), modes({ a: "STRICT" }));
    assert.equal(plan.effective.get("a"), "PERMISSIVE");
    assert.equal(plan.staging, false);
  });

  test("modes of services not registered (yet) are kept as configured", () => {
    const plan = planMtls(["a"], modes({ a: "DISABLE", ghost: "STRICT" }), modes({ ghost: "DISABLE" }));
    assert.deepEqual(Object.fromEntries(plan.effective), { a: "DISABLE", ghost: "STRICT" });
    assert.equal(plan.staging, false);
  });

  test("the inputs are not modified", () => {
    const desired = modes({ a: "DISABLE" });
    const pushed = modes({ a: "STRICT" });
    planMtls(["a"], desired, pushed);
    assert.deepEqual(Object.fromEntries(desired), { a: "DISABLE" });
    assert.deepEqual(Object.fromEntries(pushed), { a: "STRICT" });
  });

  test("a stage is complete once every connected agent acked the staged version or newer", () => {
    assert.equal(stageComplete(5, []), true, "no agent connected");
    assert.equal(stageComplete(5, [5, 6]), true);
    assert.equal(stageComplete(5, [5, 4, 6]), false);
  });
});

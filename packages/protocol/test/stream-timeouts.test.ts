/** The stream timeouts of a service policy: `timeoutMs` (time to the response head) and `idleTimeoutMs`, validated. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceConfigSchema, servicePolicySchema } from "../src/index.ts";

test("idleTimeoutMs: an optional whole number of milliseconds, 0 … 1 h", () => {
  assert.equal(servicePolicySchema.parse({ idleTimeoutMs: 30_000 }).idleTimeoutMs, 30_000);
  assert.equal(servicePolicySchema.parse({}).idleTimeoutMs, undefined);
  for (const bad of [-1, 1.5, 3_600_001, "10s"]) assert.equal(servicePolicySchema.safeParse({ idleTimeoutMs: bad }).success, false, String(bad));
});

test("a snapshot's service carries idleTimeoutMs beside timeoutMs (absent: none)", () => {
  const base = { name: "chat", versions: ["v1"], endpoints: [] };
  assert.equal(serviceConfigSchema.parse({ ...base, idleTimeoutMs: 800 }).idleTimeoutMs, 800);
  const plain = serviceConfigSchema.parse(base);
  assert.equal(plain.idleTimeoutMs, undefined);
  assert.equal(plain.timeoutMs, 15_000);
});

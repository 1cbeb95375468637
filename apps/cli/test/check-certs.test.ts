/** `trellis check`'s certificate rule: valid, not yet valid, close to expiry (renewal overdue), expired, none. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { certificateProblem } from "../src/commands/check-certs.ts";

const at = (ms: number) => new Date(ms).toISOString();
const agent = (notBefore: number, notAfter: number) => ({
  service: "web",
  instanceId: "w1",
  certificate: { notBefore: at(notBefore), notAfter: at(notAfter) },
});
const now = Date.parse("2026-12-02T12:00:00Z");
const hour = 3600_000;

test("certificate rule", () => {
  assert.equal(certificateProblem(agent(now - hour, now + 23 * hour), now), null);
  assert.equal(certificateProblem({ service: "web", instanceId: "w1", certificate: null }, now), null);
  assert.match(certificateProblem(agent(now - 20 * hour, now + 4 * hour), now) ?? "", /web\/w1: certificate close to expiry/);
  assert.match(certificateProblem(agent(now - 25 * hour, now - hour), now) ?? "", /expired/);
  assert.match(certificateProblem(agent(now + hour, now + 25 * hour), now) ?? "", /not valid before/);
});

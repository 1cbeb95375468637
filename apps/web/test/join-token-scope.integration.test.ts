/**
 * Scoped join tokens against the real console and real agents (through the kit): a token scoped to `web` registers
 * web (which gets its certificate, and the token's use is recorded) but not payments, which is refused with a fatal
 * `token-scope` error frame and close 4004 and gets no certificate. Plus the scope patterns, pure.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { adminSession, type ConsoleHandle, freePort, startAgent, startConsole, stopAll } from "@trellis/testkit";
import { ConsoleError } from "../server/errors.ts";
import { parseScope, scopeCovers } from "../server/security/token-scope.ts";

describe("join token scopes (pure)", () => {
  test("names and glob patterns; no scope covers every service", () => {
    assert.equal(scopeCovers(["web"], "web"), true);
    assert.equal(scopeCovers(["web"], "payments"), false);
    assert.equal(scopeCovers(["web"], "web-admin"), false, "a name is not a prefix");
    assert.equal(scopeCovers(["shop-*"], "shop-cart"), true);
    assert.equal(scopeCovers(["shop-*"], "shop"), false);
    assert.equal(scopeCovers(["*-worker", "api"], "mail-worker"), true);
    assert.equal(scopeCovers([], "web"), false, "an empty (unreadable) scope covers nothing");
    assert.equal(scopeCovers(null, "anything"), true);
  });

  test("parsing: comma or space separated, validated, never empty", () => {
    assert.deepEqual(parseScope("web, shop-*  cart"), ["web", "shop-*", "cart"]);
    assert.deepEqual(parseScope(["web", "web"]), ["web"]);
    for (const bad of ["", "  ", "Web", "a.b", "x/y", "-web"])
      assert.throws(
        () => parseScope(bad),
        (e: unknown) => e instanceof ConsoleError && e.code === "CONSOLE_INVALID_INPUT",
        bad,
      );
  });
});

describe("a token scoped to web", { concurrency: false }, () => {
  let console_: ConsoleHandle;
  let token: string;

  before(async () => {
    console_ = await startConsole({ timeoutMs: 90_000 });
    const admin = await adminSession(console_.url);
    token = (await admin.mutate<{ token: string }>("security.createToken", { name: "web-only", scope: ["web"] })).token;
  });
  after(() => stopAll());

  test("cannot register payments: fatal token-scope error, close 4004, no certificate", async () => {
    const payments = await startAgent({ service: "payments", appPort: await freePort(), console: console_.wsAgents, token });
    const refused = await payments.waitForLine((l) => l.msg === "console error" && l.code === "token-scope", 20_000, "token-scope error frame");
    assert.equal(refused.fatal, true);
    assert.match(String(refused.message), /join token "web-only" may register web, not payments/);
    await payments.waitForLine(
      (l) => l.msg === "console unreachable" || (l.msg === "control link down" && l.code === 4004),
      10_000,
      "closed with 4004",
    );
    const rejected = await console_.proc.waitFor((l) => l.msg === "agent rejected" && l.reason === "join token scope", 5_000, "console log");
    assert.equal(rejected.service, "payments");
    // The agent asked for a certificate right after its hello; nothing was issued, nothing was installed.
    assert.ok(
      !console_.proc.lines.some((l) => l.msg === "certificate issued" && String(l.spiffeId).endsWith("/service/payments")),
      "a certificate for payments",
    );
    assert.ok(!payments.lines.some((l) => l.msg === "certificate installed"), "payments installed a certificate");
    assert.ok(!console_.proc.output.some((l) => l.includes(token)), "the token was logged");
    await payments.stop();
  });

  test("registers web, which gets its certificate; the token's use (when, by whom) shows in Settings' list", async () => {
    const web = await startAgent({ service: "web", appPort: await freePort(), console: console_.wsAgents, token, instanceId: "web-scoped-1" });
    await web.waitForLine((l) => l.msg === "certificate installed", 20_000, "web's certificate");
    const admin = await adminSession(console_.url);
    const tokens =
      await admin.query<{ name: string; scope: string[] | null; lastUsedAt: string | null; lastUsedBy: string | null }[]>("security.tokens");
    const row = tokens.find((t) => t.name === "web-only");
    assert.deepEqual(row?.scope, ["web"]);
    assert.equal(row?.lastUsedBy, "web/web-scoped-1");
    assert.ok(row?.lastUsedAt);
    assert.equal(tokens.find((t) => t.scope === null)?.name !== undefined, true, "the bootstrap token is unscoped");
    await web.stop();
  });

  test("a scope that names no valid service is refused when the token is made", async () => {
    const admin = await adminSession(console_.url);
    await assert.rejects(admin.mutate("security.createToken", { name: "bad", scope: "Payments!" }), /CONSOLE_INVALID_INPUT|scope/);
  });
});

/**
 * API tokens against a real console: an admin creates one (the value shown once, never listed); `Authorization:
 * Bearer` reaches the API with the token's role and no CSRF header; changes are recorded as `token:<name>` (revision
 * actor, audit actorKind "token"); a viewer token cannot mutate; revoked, expired and unknown tokens get 401; the
 * value never appears in the console's logs.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ConsoleHandle, ConsoleSession, startConsole, stopAll } from "@trellis/testkit";

interface Created {
  id: string;
  name: string;
  role: string;
  token: string;
  prefix: string;
}

describe("API tokens", () => {
  let c: ConsoleHandle;
  let admin: ConsoleSession;
  const values: string[] = [];

  const create = async (name: string, role: string, expiresAt: string | null = null) => {
    const t = await admin.mutate<Created>("apiTokens.create", { name, role, expiresAt });
    values.push(t.token);
    return t;
  };
  const call = (token: string, path: string, input?: unknown, method: "GET" | "POST" = "GET") =>
    method === "GET"
      ? fetch(`${c.url}/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, {
          headers: { authorization: `Bearer ${token}` },
        })
      : fetch(`${c.url}/api/trpc/${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(input ?? null),
        });

  before(async () => {
    c = await startConsole();
    admin = await ConsoleSession.signIn(c.url);
  });
  after(() => stopAll());

  test("an operator token queries and mutates without CSRF; the revision and the audit event name the token", async () => {
    const t = await create("ci", "operator");
    assert.match(t.token, /^trl_/);
    const q = await call(t.token, "services.list");
    assert.equal(q.status, 200);
    const m = await call(t.token, "security.setMeshMtls", { mode: "STRICT" }, "POST");
    assert.equal(m.status, 200, await m.clone().text());
    const [rev] = await admin.query<{ actor: string }[]>("revisions.list", { limit: 1 });
    assert.equal(rev.actor, "token:ci");
    const audit = await admin.query<{ events: { actorKind: string; actor: string; action: string }[] }>("audit.list", { actor: "token:ci" });
    assert.ok(audit.events.length > 0, "audited");
    assert.ok(audit.events.every((e) => e.actorKind === "token"));
    const listed = await admin.query<Record<string, unknown>[]>("apiTokens.list");
    const row = listed.find((r) => r.name === "ci");
    assert.ok(row?.lastUsedAt, "last use recorded");
    assert.ok(!JSON.stringify(listed).includes(t.token), "the value is never listed");
  });

  test("a viewer token reads but cannot mutate (403)", async () => {
    const t = await create("dashboards", "viewer");
    assert.equal((await call(t.token, "agents.list")).status, 200);
    assert.equal((await call(t.token, "security.setMeshMtls", { mode: "PERMISSIVE" }, "POST")).status, 403);
    assert.equal((await call(t.token, "apiTokens.list")).status, 403);
  });

  test("revoked, expired and unknown tokens get 401", async () => {
    const t = await create("old", "admin");
    assert.equal((await call(t.token, "services.list")).status, 200);
    await admin.mutate("apiTokens.revoke", { id: t.id });
    assert.equal((await call(t.token, "services.list")).status, 401);
    const soon = await create("short", "viewer", new Date(Date.now() + 1500).toISOString());
    assert.equal((await call(soon.token, "services.list")).status, 200);
    await new Promise((r) => setTimeout(r, 1700));
    assert.equal((await call(soon.token, "services.list")).status, 401);
    assert.equal((await call("trl_nonsense", "services.list")).status, 401);
    assert.equal((await call(`${t.token}x`, "security.setMeshMtls", { mode: "STRICT" }, "POST")).status, 401);
  });

  test("an expiry in the past and a taken name are refused", async () => {
    await assert.rejects(admin.mutate("apiTokens.create", { name: "past", role: "viewer", expiresAt: "2020-01-01T00:00:00Z" }), /future/);
    await assert.rejects(admin.mutate("apiTokens.create", { name: "ci", role: "viewer", expiresAt: null }), /exists/);
  });

  test("no token value appears in the console's logs", () => {
    assert.ok(values.length >= 4);
    const logs = c.proc.output.join("\n");
    for (const v of values) assert.ok(!logs.includes(v), "token value logged");
    assert.ok(logs.includes("API token created"));
  });
});

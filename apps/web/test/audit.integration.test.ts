/**
 * Audit and sign-in throttling against a real console: failed sign-ins (with the username tried) are audited, then
 * throttled per username — the same way for a user that does not exist — and per client address (429 +
 * Retry-After, the first refusal of each lock audited as throttled); users, join tokens and config changes (linked to their revision) are audited;
 * only admins read the log.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type ConsoleHandle,
  ConsoleSession,
  DATABASES,
  startConsole,
  stopAll,
  TEST_ADMIN_PASSWORD,
  type TestDatabase,
  TrpcError,
  testDatabase,
} from "@trellis/testkit";

interface AuditEvent {
  id: number;
  at: string;
  actorKind: string;
  actor: string;
  clientAddress: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
  revisionId: number | null;
}

// One body, run once per database (SQLite, PostgreSQL).
for (const kind of DATABASES)
  describe(`audit log and sign-in throttling (${kind})`, () => {
    let db: TestDatabase;
    let c: ConsoleHandle;
    let admin: ConsoleSession;
    /** Made before the address gets locked (the last tests). */
    let second: ConsoleSession;
    let operator: ConsoleSession;

    const signIn = (username: string, password: string) =>
      fetch(`${c.url}/api/auth/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
    const events = async (filter: Record<string, unknown>) => (await admin.query<{ events: AuditEvent[] }>("audit.list", filter)).events;

    before(async () => {
      db = await testDatabase(kind);
      c = await startConsole({
        env: {
          ...db.env,
          NODE_ENV: "production",
          TRELLIS_SIGNIN_FREE_FAILURES: "3",
          TRELLIS_SIGNIN_FREE_FAILURES_PER_ADDRESS: "9",
          TRELLIS_SIGNIN_LOCK_MS: "60000",
        },
      });
      admin = await ConsoleSession.signIn(c.url);
      second = await ConsoleSession.signIn(c.url);
      await admin.mutate("security.createUser", { username: "olga", password: "olga-password-1", role: "operator" });
      operator = await ConsoleSession.signIn(c.url, "olga", "olga-password-1");
    });

    after(async () => {
      await stopAll();
      await db?.stop();
    });

    test("users and join tokens: created, role changed, deleted, created and revoked — each audited with who and from where", async () => {
      const u = await admin.mutate<{ id: string }>("security.createUser", { username: "victor", password: "victor-password-1", role: "viewer" });
      await admin.mutate("security.setRole", { id: u.id, role: "operator" });
      await admin.mutate("security.deleteUser", { id: u.id });
      const t = await admin.mutate<{ id: string }>("security.createToken", { name: "ci" });
      await admin.mutate("security.revokeToken", { id: t.id });
      const log = await events({ actor: "admin" });
      const of = (action: string) => log.find((e) => e.action === action);
      assert.equal(of("user.create")?.target, "victor");
      assert.deepEqual(of("user.role")?.details, { from: "viewer", to: "operator" });
      assert.equal(of("user.delete")?.target, "victor");
      assert.equal(of("token.create")?.target, t.id);
      assert.equal(of("token.create")?.details.name, "ci");
      assert.ok(!JSON.stringify(of("token.create")).includes("test-join-token"), "no token value");
      assert.equal(of("token.revoke")?.target, t.id);
      for (const e of log.filter((x) => x.action.startsWith("user.") || x.action.startsWith("token."))) {
        assert.equal(e.actorKind, "user");
        assert.equal(e.clientAddress, "127.0.0.1");
        assert.equal(e.outcome, "success");
      }
      assert.ok(
        (await events({ action: "auth.signin", actor: "admin" })).some((e) => e.outcome === "success" && e.actorKind === "user"),
        "the admin's sign-in",
      );
    });

    test("a config change is audited once, by the road, linked to the revision it wrote; a refused one as a failure", async () => {
      const res = await admin.mutate<{ revision: { id: number } }>("telemetry.setPolicy", {
        sampleRate: 0.5,
        slowThresholdMs: 900,
        slowThresholdMsByService: {},
      });
      const [e] = await events({ action: "config." });
      assert.equal(e.action, "config.sampling.sampling");
      assert.equal(e.target, "mesh");
      assert.equal(e.revisionId, res.revision.id);
      assert.equal(e.actor, "admin");
      assert.equal(e.clientAddress, "127.0.0.1");
      await assert.rejects(admin.mutate("traffic.setSplit", { service: "payments", split: [{ version: "v9", weight: 100 }] }));
      const [failed] = await events({ action: "config.", outcome: "failure" });
      assert.equal(failed?.action, "config.traffic.split");
      assert.equal(failed.target, "payments");
      assert.equal(failed.revisionId, null);
    });

    test("failed sign-ins are audited with the username tried, then throttled (429 + Retry-After) — existing user or not", async () => {
      await admin.mutate("security.createUser", { username: "alice", password: "alice-password-1", role: "operator" });
      const answers: Record<string, { status: number; body: string; retryAfter: string | null }[]> = { alice: [], nobody: [] };
      for (const name of ["alice", "nobody"]) {
        for (let i = 0; i < 4; i++) {
          const r = await signIn(name, "wrong-password");
          answers[name].push({ status: r.status, body: await r.text(), retryAfter: r.headers.get("retry-after") });
        }
      }
      assert.deepEqual(answers.alice, answers.nobody, "the answers do not tell which user exists");
      assert.deepEqual(
        answers.alice.map((a) => a.status),
        [401, 401, 401, 429],
      );
      assert.ok(Number(answers.alice[3].retryAfter) >= 59, `Retry-After ${answers.alice[3].retryAfter}`);
      const locked = await signIn("alice", "alice-password-1");
      assert.equal(locked.status, 429, "the right password does not get through a locked username");
      for (const name of ["alice", "nobody"]) {
        const log = await events({ action: "auth.signin", actor: name });
        assert.deepEqual(
          log.map((e) => e.outcome).sort(),
          ["failure", "failure", "failure", "throttled"],
          "three failures, and the lock's first refusal (alice's second refused attempt is not another row)",
        );
        for (const e of log) {
          assert.equal(e.actorKind, "anonymous");
          assert.equal(e.target, name);
          assert.equal(e.clientAddress, "127.0.0.1");
          assert.ok(!JSON.stringify(e).includes("wrong-password"), "no password in the log");
        }
      }
      assert.ok((await events({ outcome: "throttled", from: new Date(Date.now() - 60_000).toISOString() })).length >= 2, "time-range filter");
      assert.equal((await events({ outcome: "throttled", to: new Date(Date.now() - 3_600_000).toISOString() })).length, 0);
    });

    test("per client address: too many failures from one address lock every username from it", async () => {
      // 6 failures so far from 127.0.0.1 (alice and nobody); 3 more reach the address's limit of 9.
      for (const name of ["u1", "u2", "u3"]) assert.equal((await signIn(name, "wrong-password")).status, 401);
      const r = await signIn("admin", TEST_ADMIN_PASSWORD);
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get("retry-after")) >= 1);
      const [e] = await events({ action: "auth.signin", actor: "admin", outcome: "throttled" });
      assert.equal(e?.clientAddress, "127.0.0.1");
    });

    test("only admins read the audit log; sign-out is audited", async () => {
      const forbidden = await operator.query("audit.list", {}).catch((e: unknown) => e);
      assert.ok(forbidden instanceof TrpcError && forbidden.status === 403, "an operator may not read it");
      const anonymous = await new ConsoleSession(c.url).query("audit.list", {}).catch((e: unknown) => e);
      assert.ok(anonymous instanceof TrpcError && anonymous.status === 401, "no session, no log");
      const out = await fetch(`${c.url}/api/auth/signout`, { method: "POST", headers: { cookie: admin.cookie } });
      assert.equal(out.status, 200);
      const [e] = (await second.query<{ events: AuditEvent[] }>("audit.list", { action: "auth.signout" })).events;
      assert.equal(e?.actor, "admin");
      assert.equal(e.clientAddress, "127.0.0.1");
    });
  });

/**
 * The change road against a real (migrated) SQLite database and a fake publisher: every part of the config (traffic,
 * mTLS, authorization, mesh-wide sampling) goes validate → diff → revision → publish → stamp; invalid changes are
 * domain errors with stable codes and store nothing; rollbacks revert what their revision changed.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { DATABASES } from "@trellis/testkit";
import { ConfigChanges } from "../server/changes/index.ts";
import { ConsoleError } from "../server/errors.ts";
import { createLogger } from "../server/log.ts";
import type { Repositories } from "../server/repositories/index.ts";
import { type MigratedDb, openMigratedDb } from "./support/migrated-db.ts";

// One body, run once per database (SQLite, PostgreSQL): the state below is reset by each run's before().
let db: MigratedDb;
const log = createLogger({ component: "test" });
let repos: Repositories;
let changes: ConfigChanges;
const publisher = {
  currentVersion: 0,
  publishes: 0,
  async publish() {
    this.publishes++;
    return ++this.currentVersion;
  },
};

/** The domain error code a promise rejects with (fails when it resolves or throws something else). */
async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConsoleError, `a ConsoleError, got ${(err as Error).stack}`);
    return { code: err.code, message: err.message };
  }
  assert.fail("expected a rejection");
}

for (const kind of DATABASES)
  describe(`the change road (${kind})`, () => {
    before(async () => {
      db = await openMigratedDb(kind, log);
      repos = db.repos;
      publisher.currentVersion = 0;
      changes = new ConfigChanges(repos, publisher, log);
      for (const v of ["v1", "v2"]) await repos.services.ensure("payments", v);
      await repos.services.ensure("catalog", "v1");
      await repos.services.ensure("orders", "v1");
    });

    after(async () => {
      await db?.close();
    });

    beforeEach(() => {
      publisher.publishes = 0;
    });

    test("every part: one revision with who, what, before/after and diff, published and stamped with the version", async () => {
      const split = await changes.setSplit(
        "payments",
        [
          { version: "v1", weight: 90 },
          { version: "v2", weight: 10 },
        ],
        "ana",
      );
      const mtls = await changes.setMtls("catalog", "STRICT", "ana");
      const rule = await changes.addAuthzRule("catalog", { principals: ["spiffe://trellis.local/service/web"], methods: ["GET"], paths: [] }, "ana");
      const sampling = await changes.setSampling({ sampleRate: 0.5, slowThresholdMs: 800, slowThresholdMsByService: {} }, "ana");
      assert.equal(publisher.publishes, 4);
      const got = [split, mtls, rule, sampling].map((r) => r.revision);
      assert.deepEqual(
        got.map((r) => [r?.part, r?.service, r?.kind, r?.actor]),
        [
          ["traffic", "payments", "split", "ana"],
          ["mtls", "catalog", "mtls", "ana"],
          ["authz", "catalog", "authz", "ana"],
          ["sampling", null, "sampling", "ana"],
        ],
      );
      assert.deepEqual(sampling.revision?.diff, ["~ sampleRate: 0.01 → 0.5", "~ slowThresholdMs: 1000 → 800"]);
      assert.deepEqual(mtls.revision?.before, { mtls: "PERMISSIVE" }, "a service without an override has the mesh default");
      assert.ok(rule.id, "the new rule's id");
      const history = await changes.history();
      for (const r of got) {
        const stored = history.find((h) => h.id === r?.id);
        assert.equal(stored?.configVersion, r?.configVersion, "stamped with the version it went out with");
        assert.ok((stored?.configVersion ?? 0) > 0);
      }
      assert.equal((await repos.telemetryPolicy.get()).sampleRate, 0.5);
    });

    test("a change that changes nothing makes no revision and publishes nothing", async () => {
      const count = await repos.revisions.count();
      const same = await changes.setMtls("catalog", "STRICT", "ana");
      assert.equal(same.revision, null);
      assert.equal(publisher.publishes, 0);
      assert.equal(await repos.revisions.count(), count);
    });

    test("invalid changes are CONSOLE_INVALID_CONFIG naming the field; unknown services CONSOLE_NOT_FOUND; nothing stored", async () => {
      const count = await repos.revisions.count();
      const badSplit = await codeOf(changes.setSplit("payments", [{ version: "v1", weight: 50 }], "ana"));
      assert.equal(badSplit.code, "CONSOLE_INVALID_CONFIG");
      assert.match(badSplit.message, /split/);
      const badRate = await codeOf(changes.setSampling({ sampleRate: 2, slowThresholdMs: 800, slowThresholdMsByService: {} }, "ana"));
      assert.equal(badRate.code, "CONSOLE_INVALID_CONFIG");
      assert.match(badRate.message, /sampleRate/);
      assert.equal((await codeOf(changes.setMtls("nosuch", "STRICT", "ana"))).code, "CONSOLE_NOT_FOUND");
      assert.equal((await codeOf(changes.updatePolicy("payments", { nope: 1 }, "ana"))).code, "CONSOLE_INVALID_INPUT");
      assert.equal((await codeOf(changes.rollback(999_999, "ana"))).code, "CONSOLE_NOT_FOUND");
      assert.equal(await repos.revisions.count(), count);
      assert.equal(publisher.publishes, 0);
    });

    test("the sampling policy has history and rollback like any part", async () => {
      const change = await changes.setSampling({ sampleRate: 1, slowThresholdMs: 800, slowThresholdMsByService: { payments: 300 } }, "ana");
      assert.ok(change.revision);
      const back = await changes.rollback(change.revision.id, "bo");
      assert.equal(back.revision?.part, "sampling");
      assert.equal(back.revision?.service, null);
      assert.equal(back.revision?.rollbackOf, change.revision.id);
      assert.deepEqual(await repos.telemetryPolicy.get(), { sampleRate: 0.5, slowThresholdMs: 800, slowThresholdMsByService: {} });
    });

    test("rolling back a traffic revision reverts only the fields it changed, keeping later unrelated changes", async () => {
      const timeout = await changes.updatePolicy("payments", { timeoutMs: 1500 }, "ana");
      const retries = await changes.updatePolicy("payments", { retries: { attempts: 2 } }, "bo");
      assert.ok(timeout.revision && retries.revision);
      const back = await changes.rollback(timeout.revision.id, "ana");
      assert.deepEqual(back.revision?.diff, ["- timeoutMs: 1500"]);
      const policy = await repos.policies.get("payments");
      assert.equal(policy.timeoutMs, undefined, "the rolled-back field is restored");
      assert.deepEqual(policy.retries, retries.doc.retries, "the later, unrelated change stays");
      assert.deepEqual(policy.split, timeout.doc.split, "the split set before stays");
    });

    test("traffic mirroring: validated (known version, percent 0–100), a revision with its summary, stored, rolled back", async () => {
      const count = await repos.revisions.count();
      const unknown = await codeOf(changes.setMirror("payments", { version: "v9", percent: 50 }, "ana"));
      assert.equal(unknown.code, "CONSOLE_INVALID_CONFIG");
      assert.match(unknown.message, /mirror\.version: unknown version v9/);
      const tooMuch = await codeOf(changes.setMirror("payments", { version: "v2", percent: 150 }, "ana"));
      assert.equal(tooMuch.code, "CONSOLE_INVALID_CONFIG");
      assert.match(tooMuch.message, /mirror\.percent/);
      assert.equal(await repos.revisions.count(), count, "nothing stored");

      const on = await changes.setMirror("payments", { version: "v2", percent: 50 }, "ana");
      assert.deepEqual([on.revision?.part, on.revision?.kind, on.revision?.summary], ["traffic", "mirror", "mirror off → 50% to v2"]);
      assert.deepEqual(on.revision?.diff, ["+ mirror.percent: 50", '+ mirror.version: "v2"']);
      assert.equal(publisher.publishes, 1, "published");
      assert.deepEqual((await repos.policies.get("payments")).mirror, { version: "v2", percent: 50 });
      const back = await changes.rollback(on.revision!.id, "bo");
      assert.equal(back.revision?.rollbackOf, on.revision!.id);
      assert.equal((await repos.policies.get("payments")).mirror, undefined, "mirroring off again");
    });

    test("a rollback of a field a later revision changed again is refused, naming that revision", async () => {
      const first = await changes.updatePolicy("payments", { timeoutMs: 1000 }, "ana");
      const second = await changes.updatePolicy("payments", { timeoutMs: 2000 }, "bo");
      assert.ok(first.revision && second.revision);
      const count = await repos.revisions.count();
      const refused = await codeOf(changes.rollback(first.revision.id, "ana"));
      assert.equal(refused.code, "CONSOLE_ROLLBACK_CONFLICT");
      assert.match(refused.message, new RegExp(`revision ${second.revision.id} changed timeoutMs`));
      assert.equal((await repos.policies.get("payments")).timeoutMs, 2000, "nothing changed");
      assert.equal(await repos.revisions.count(), count, "no revision");
    });

    test("mTLS, authorization and sampling rollbacks revert only their own change too", async () => {
      // authz: rolling back the rule added first keeps the rule added after it.
      const web = { principals: ["spiffe://trellis.local/service/web-a"], methods: [], paths: [] };
      const cart = { principals: ["spiffe://trellis.local/service/cart-a"], methods: [], paths: [] };
      const addWeb = await changes.addAuthzRule("catalog", web, "ana");
      await changes.addAuthzRule("catalog", cart, "bo");
      assert.ok(addWeb.revision);
      await changes.rollback(addWeb.revision.id, "ana");
      const principals = (await repos.security.authzRules("catalog")).map((r) => r.principals[0]);
      assert.ok(principals.includes(cart.principals[0]), "the later rule stays");
      assert.ok(!principals.includes(web.principals[0]), "the rolled-back rule is gone");

      // sampling: rolling back a rate change keeps a later threshold change.
      const rate = await changes.setSampling({ sampleRate: 0.25, slowThresholdMs: 800, slowThresholdMsByService: {} }, "ana");
      await changes.setSampling({ sampleRate: 0.25, slowThresholdMs: 900, slowThresholdMsByService: { cart: 50 } }, "bo");
      assert.ok(rate.revision);
      await changes.rollback(rate.revision.id, "ana");
      assert.deepEqual(await repos.telemetryPolicy.get(), { sampleRate: 0.5, slowThresholdMs: 900, slowThresholdMsByService: { cart: 50 } });

      // mTLS: the mode changed again since: refused, naming the later revision.
      const permissive = await changes.setMtls("catalog", "PERMISSIVE", "ana");
      const disable = await changes.setMtls("catalog", "DISABLE", "bo");
      assert.ok(permissive.revision && disable.revision);
      const refused = await codeOf(changes.rollback(permissive.revision.id, "ana"));
      assert.equal(refused.code, "CONSOLE_ROLLBACK_CONFLICT");
      assert.match(refused.message, new RegExp(`revision ${disable.revision.id} changed mtls`));
    });

    test("the mesh-wide mTLS default: a mesh-wide revision, inherited by services without an override, rolled back", async () => {
      await repos.services.ensure("ledger", "v1");
      assert.equal(await repos.security.meshDefault(), "PERMISSIVE", "PERMISSIVE from the start");
      assert.deepEqual(await repos.security.mtlsOf("ledger").then((m) => [m?.mode, m?.inherited]), ["PERMISSIVE", true]);
      const strict = await changes.setMtlsDefault("STRICT", "ana");
      assert.deepEqual(
        [strict.revision?.part, strict.revision?.service, strict.revision?.diff],
        ["mtls-default", null, ["~ mesh mTLS default: PERMISSIVE → STRICT"]],
      );
      assert.equal(publisher.publishes, 1);
      assert.deepEqual(await repos.security.mtlsOf("ledger").then((m) => [m?.mode, m?.inherited]), ["STRICT", true]);
      const refused = await codeOf(changes.setMtlsDefault("DISABLE" as never, "ana"));
      assert.equal(refused.code, "CONSOLE_INVALID_CONFIG", "DISABLE is an override only, never the mesh default");
      assert.ok(strict.revision);
      await changes.rollback(strict.revision.id, "bo");
      assert.equal(await repos.security.meshDefault(), "PERMISSIVE");
      assert.equal((await changes.history({ limit: 1 }))[0]?.part, "mtls-default");
    });

    test("a rollback that would empty an allow-list it did not create (every caller allowed) is refused", async () => {
      const x = { principals: ["spiffe://trellis.local/service/x"], methods: [], paths: [] };
      const y = { principals: ["spiffe://trellis.local/service/y"], methods: [], paths: [] };
      const addX = await changes.addAuthzRule("orders", x, "ana");
      const addY = await changes.addAuthzRule("orders", y, "ana");
      const removeX = await changes.removeAuthzRule(addX.id, "bo");
      assert.ok(addY.revision && removeX.revision);
      const refused = await codeOf(changes.rollback(addY.revision.id, "ana"));
      assert.equal(refused.code, "CONSOLE_ROLLBACK_CONFLICT");
      assert.match(refused.message, new RegExp(`after revision ${removeX.revision.id} it would also change authorization`));
      assert.equal((await repos.security.authzRules("orders")).length, 1, "nothing changed");
      // Undo the removal first, then the addition: x only.
      await changes.rollback(removeX.revision.id, "ana");
      await changes.rollback(addY.revision.id, "ana");
      assert.deepEqual(
        (await repos.security.authzRules("orders")).map((r) => r.principals),
        [x.principals],
      );
    });
  });

/** The audit repository on a migrated SQLite database: filters (actor, action prefix, outcome, time), paging, retention. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DATABASES } from "@trellis/testkit";
import { AuditLog } from "../server/audit/audit-log.ts";
import { withRequestActor } from "../server/audit/request-actor.ts";
import { AuditRetention } from "../server/audit/retention.ts";
import { createLogger } from "../server/log.ts";
import type { Repositories } from "../server/repositories/index.ts";
import { type MigratedDb, openMigratedDb } from "./support/migrated-db.ts";

const log = createLogger({ component: "test" });
// One body, run once per database (SQLite, PostgreSQL): reset by each run's before().
let db: MigratedDb;
let repos: Repositories;

for (const kind of DATABASES)
  describe(`audit store (${kind})`, () => {
    before(async () => {
      db = await openMigratedDb(kind, log);
      repos = db.repos;
    });

    after(async () => {
      await db?.close();
    });

    test("the request's actor and address fill what a record leaves out; filters and paging", async () => {
      const audit = new AuditLog(repos, log);
      await withRequestActor({ actorKind: "user", actor: "ann", clientAddress: "10.1.1.1" }, () =>
        audit.record({ action: "config.mtls.mtls", target: "web", outcome: "success", revisionId: 7 }),
      );
      await audit.record({ action: "user.create", target: "bob", outcome: "success" });
      await audit.record({
        actorKind: "anonymous",
        actor: "eve",
        clientAddress: "10.9.9.9",
        action: "auth.signin",
        target: "eve",
        outcome: "failure",
      });
      const [config] = await repos.audit.list({ action: "config.", limit: 10 });
      assert.deepEqual(
        { ...config, id: 0, at: "" },
        {
          id: 0,
          at: "",
          actorKind: "user",
          actor: "ann",
          clientAddress: "10.1.1.1",
          action: "config.mtls.mtls",
          target: "web",
          outcome: "success",
          details: {},
          revisionId: 7,
        },
      );
      const [system] = await repos.audit.list({ action: "user.create", limit: 10 });
      assert.equal(system.actorKind, "system", "outside a request: the system");
      assert.equal(system.clientAddress, null);
      assert.equal((await repos.audit.list({ actor: "eve", outcome: "failure", limit: 10 })).length, 1);
      assert.equal((await repos.audit.list({ actor: "eve", outcome: "success", limit: 10 })).length, 0);
      const page1 = await repos.audit.list({ limit: 2 });
      const page2 = await repos.audit.list({ limit: 2, before: page1[1].id });
      assert.deepEqual(
        [...page1, ...page2].map((e) => e.action),
        ["auth.signin", "user.create", "config.mtls.mtls"],
        "newest first, paged by id",
      );
      assert.equal((await repos.audit.list({ from: new Date(Date.now() + 60_000), limit: 10 })).length, 0);
    });

    test("retention deletes events older than the maximum age", async () => {
      const n = (await repos.audit.list({ limit: 100 })).length;
      const later = Date.now() + 2 * 86_400_000;
      assert.equal(await new AuditRetention(repos, { maxAgeDays: 3, pruneMs: 1000 }, log, () => later).prune(), 0);
      assert.equal(await new AuditRetention(repos, { maxAgeDays: 1, pruneMs: 1000 }, log, () => later).prune(), n);
      assert.equal((await repos.audit.list({ limit: 100 })).length, 0);
    });
  });

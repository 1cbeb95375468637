/**
 * Leases for run-once work: the pure decision (take / renew / wait) and local view, then two LeaseKeepers as two
 * replicas over one real database (SQLite and PostgreSQL) on a shared fake clock: one holds, the other waits; the
 * holder stops renewing (dies) and the lease moves after its TTL; the old holder's job is aborted when it learns it
 * lost the lease; a graceful close hands the lease over at once.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DATABASES } from "@trellis/testkit";
import { createLogger } from "../server/log.ts";
import { decide, holding, observe } from "../server/replicas/lease.ts";
import { LeaseKeeper } from "../server/replicas/leases.ts";
import type { Repositories } from "../server/repositories/index.ts";
import { type MigratedDb, openMigratedDb } from "./support/migrated-db.ts";

const log = { ...createLogger({ component: "test" }), info() {}, warn() {} };
const OPTS = { ttlMs: 10_000, renewEveryMs: 3_000, marginMs: 1_000 };

describe("lease decisions (pure)", () => {
  test("take when free or expired, renew when held, wait while another holds it", () => {
    assert.deepEqual(decide(null, "a", 0), { kind: "take", expected: null });
    const row = { name: "rollups", holder: "a", expiresAt: 100 };
    assert.equal(decide(row, "a", 50).kind, "renew");
    assert.deepEqual(decide(row, "b", 50), { kind: "wait", holder: "a", expiresAt: 100 });
    assert.deepEqual(decide(row, "b", 100), { kind: "take", expected: row });
  });

  test("the local view: held until the margin before its expiry; a failed attempt keeps what was written", () => {
    const held = observe({ state: "free" }, "a", { row: { name: "n", holder: "a", expiresAt: 100 } }, 0);
    assert.deepEqual(held, { state: "held", expiresAt: 100 });
    assert.equal(holding(held, 89, 10), true);
    assert.equal(holding(held, 90, 10), false, "stops acting before the expiry");
    assert.deepEqual(observe(held, "a", { row: null }, 50), held, "database unreachable: still valid");
    assert.deepEqual(observe(held, "a", { row: null }, 100), { state: "free" });
    assert.deepEqual(observe(held, "a", { row: { name: "n", holder: "b", expiresAt: 200 } }, 50), {
      state: "elsewhere",
      holder: "b",
      expiresAt: 200,
    });
  });
});

let db: MigratedDb;
let repos: Repositories;

for (const kind of DATABASES)
  describe(`leases over one database (${kind})`, () => {
    before(async () => {
      db = await openMigratedDb(kind, log);
      repos = db.repos;
    });
    after(async () => {
      await db?.close();
    });

    test("one holder at a time; the lease moves when its holder dies; the loser's job is aborted", async () => {
      let now = Date.parse("2026-12-02T10:00:00Z");
      const clock = () => now;
      const a = new LeaseKeeper(repos.leases, "replica-a", OPTS, log, clock);
      const b = new LeaseKeeper(repos.leases, "replica-b", OPTS, log, clock);
      let ranOn: string[] = [];
      const job = (who: string) => async () => {
        ranOn.push(who);
        return who;
      };
      assert.deepEqual(await a.runExclusively("rollups", job("a")), { ran: true, value: "a" });
      assert.deepEqual(await b.runExclusively("rollups", job("b")), { ran: false, holder: "replica-a" });
      // Renewals keep it with a while it lives, however long that is.
      for (let i = 0; i < 5; i++) {
        now += OPTS.renewEveryMs;
        await Promise.all([a.attempt("rollups"), b.attempt("rollups")]);
        assert.equal((await a.runExclusively("rollups", job("a"))).ran, true);
        assert.equal((await b.runExclusively("rollups", job("b"))).ran, false);
      }
      assert.deepEqual(ranOn, ["a", "a", "a", "a", "a", "a"]);

      // a "dies" mid-job: no more renewals. Its job keeps a signal; b waits out the TTL and then takes the lease.
      let signal: AbortSignal | null = null;
      let release!: () => void;
      const longJob = a.runExclusively("rollups", async (s) => {
        signal = s;
        await new Promise<void>((r) => {
          release = r;
        });
      });
      now += OPTS.ttlMs - 1;
      await b.attempt("rollups");
      assert.equal(b.holds("rollups"), false, "not before the expiry");
      now += 1;
      await b.attempt("rollups");
      assert.equal(b.holds("rollups"), true, "moved at the expiry");
      assert.equal(a.holds("rollups"), false, "past its margin the old holder no longer acts");
      ranOn = [];
      assert.equal((await b.runExclusively("rollups", job("b"))).ran, true);
      assert.equal((await a.runExclusively("rollups", job("a"))).ran, false);
      assert.deepEqual(ranOn, ["b"]);
      assert.equal((await repos.leases.read("rollups"))?.holder, "replica-b");
      // a comes back: its next attempt learns it lost the lease and aborts the job it still runs.
      await a.attempt("rollups");
      assert.equal((signal as AbortSignal | null)?.aborted, true);
      release();
      await longJob;

      // b stops gracefully: the lease is released and a takes it at once, without waiting for a TTL.
      await b.close();
      await a.attempt("rollups");
      assert.equal(a.holds("rollups"), true);
      await a.close();
    });

    test("two replicas racing for a free lease: exactly one wins", async () => {
      const now = () => Date.parse("2026-12-02T11:00:00Z");
      const keepers = ["r1", "r2", "r3", "r4"].map((id) => new LeaseKeeper(repos.leases, id, OPTS, log, now));
      const results = await Promise.all(keepers.map((k) => k.runExclusively("retention", async () => k.holder)));
      assert.equal(results.filter((r) => r.ran).length, 1);
      const winner = results.find((r) => r.ran) as { value: string };
      assert.equal((await repos.leases.read("retention"))?.holder, winner.value);
      for (const r of results) if (!r.ran) assert.equal(r.holder, winner.value);
    });
  });

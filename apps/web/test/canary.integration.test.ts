/**
 * Canary rollouts (server/canary/canaries.ts) against a real migrated database (SQLite, PostgreSQL), the real change
 * road and the real telemetry store, on a clock the test moves: each window's telemetry is ingested as agents send it
 * (per second, web → payments@v1 / @v2). A healthy canary walks 5 → 10 → 25 → 50 and is promoted, each step a
 * revision by "canary payments" with its figures; 4% failures roll it back after 2 failed checks; too few requests
 * wait and add up; pause / resume / abort by hand; a new Canaries over the same database (a restarted console) carries
 * on from where the old one stopped.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import { DATABASES } from "@trellis/testkit";
import { Canaries } from "../server/canary/canaries.ts";
import { ConfigChanges } from "../server/changes/index.ts";
import type { ConsoleError } from "../server/errors.ts";
import { createLogger } from "../server/log.ts";
import type { Repositories } from "../server/repositories/index.ts";
import { TelemetryStore } from "../server/telemetry-store.ts";
import { type MigratedDb, openMigratedDb } from "./support/migrated-db.ts";

const log = createLogger({ component: "test" });
const INTERVAL = 10;

for (const kind of DATABASES)
  describe(`canary rollouts (${kind})`, () => {
    let db: MigratedDb;
    let repos: Repositories;
    let changes: ConfigChanges;
    let store: TelemetryStore;
    let clock = 0;
    const publisher = {
      currentVersion: 0,
      async publish() {
        return ++this.currentVersion;
      },
    };
    const canaries = () => new Canaries({ repos, changes, store, log, now: () => clock });

    before(async () => {
      db = await openMigratedDb(kind, log);
      repos = db.repos;
      changes = new ConfigChanges(repos, publisher, log);
      for (const v of ["v1", "v2"]) await repos.services.ensure("payments", v);
      // The store's clock is the test's: windows near "now" land in 1-second buckets.
      clock = Math.floor(Date.now() / 1000) * 1000 + 300;
      store = new TelemetryStore();
    });
    after(async () => {
      await db?.close();
    });

    /** One second of calls into each version (per second: `rps` × the version's share of the split), then the clock moves on. */
    async function second(c: Canaries, rps: number, failurePct: Record<string, number>): Promise<void> {
      const split = (await repos.policies.get("payments")).split ?? [];
      const edges = split.map((e) => {
        const requests = Math.round((rps * e.weight) / 100);
        const errors = Math.round((requests * (failurePct[e.version] ?? 0)) / 100);
        const latency = emptyHistogram();
        for (let i = 0; i < requests; i++) observe(latency, e.version === "v2" ? 50 : 4);
        return {
          source: "web",
          sourceVersion: "v1",
          destination: "payments",
          destinationVersion: e.version,
          statusClass: "2xx" as const,
          requests,
          errors,
          bytesIn: 0,
          bytesOut: 0,
          mtls: requests,
          latency,
        };
      });
      store.ingest({ windowStart: clock, edges }, clock);
      clock += 1000;
      await c.tick();
    }

    async function runSeconds(c: Canaries, n: number, rps: number, failurePct: Record<string, number>) {
      for (let i = 0; i < n; i++) await second(c, rps, failurePct);
    }

    test("a healthy canary is promoted step by step; every step a revision by the canary, with its figures", async () => {
      const c = canaries();
      const row = await c.start(
        { service: "payments", baseline: "v1", canary: "v2", settings: { intervalSeconds: INTERVAL, minRequests: 10 } },
        "olga",
      );
      assert.equal(row.phase, "progressing");
      assert.deepEqual((await repos.policies.get("payments")).split, [
        { version: "v1", weight: 95 },
        { version: "v2", weight: 5 },
      ]);
      // A second rollout of the same service is refused while one runs.
      await assert.rejects(
        c.start({ service: "payments", baseline: "v1", canary: "v2" }, "olga"),
        (e: ConsoleError) => e.code === "CONSOLE_CONFLICT",
      );
      await runSeconds(c, 4 * (INTERVAL + 4), 400, {});
      const view = await c.view("payments");
      assert.equal(view.rollout?.phase, "promoted");
      assert.equal(view.weight, 100);
      assert.deepEqual((await repos.policies.get("payments")).split, [
        { version: "v1", weight: 0 },
        { version: "v2", weight: 100 },
      ]);
      const revs = (await changes.history({ service: "payments" })).reverse();
      assert.deepEqual(
        revs.map((r) => r.kind),
        ["canary-start", "canary-step", "canary-step", "canary-step", "canary-promote"],
      );
      assert.ok(revs.every((r) => r.actor === "canary payments"));
      assert.match(revs[0].summary, /^canary v2 started by olga at 5% against v1 \(split v1 100%|split/);
      assert.match(
        revs[1].summary,
        /^canary v2 → 10%: check passed at 5% — success 100% \(baseline 100%\), p99 [\d.]+ ms \(baseline [\d.]+ ms\), \d+ requests/,
      );
      assert.match(revs[4].summary, /promoted to 100%: check passed at 50%/);
      const passes = view.checks.filter((k) => k.verdict === "pass");
      assert.deepEqual(
        passes.map((k) => k.weight),
        [5, 10, 25, 50],
      );
      assert.ok(passes.every((k) => k.revisionId !== null && k.canaryRequests >= 10 && k.baselineRequests > 0));
      // The promotion is a revision like any other: it can be rolled back from the history.
      const back = await changes.rollback(revs[4].id, "olga");
      assert.deepEqual((back.doc as { split: unknown }).split, [
        { version: "v1", weight: 50 },
        { version: "v2", weight: 50 },
      ]);
    });

    test("4% failures fail the checks: the second failed check rolls back to the baseline", async () => {
      const c = canaries();
      await c.start(
        { service: "payments", baseline: "v1", canary: "v2", settings: { intervalSeconds: INTERVAL, steps: [20, 50, 100], minRequests: 10 } },
        "olga",
      );
      await runSeconds(c, 2 * (INTERVAL + 4), 400, { v2: 4 });
      const view = await c.view("payments");
      assert.equal(view.rollout?.phase, "rolled-back");
      assert.equal(view.rollout?.failedChecks, 2);
      assert.equal(view.weight, 0);
      assert.deepEqual((await repos.policies.get("payments")).split, [
        { version: "v1", weight: 100 },
        { version: "v2", weight: 0 },
      ]);
      const [newest] = await changes.history({ service: "payments", limit: 1 });
      assert.equal(newest.kind, "canary-rollback");
      assert.match(newest.summary, /^canary v2 rolled back to v1: 2\/2 failed checks \(success rate 96(\.\d+)?% < 99%\)/);
      const fails = view.checks.filter((k) => k.verdict === "fail");
      assert.equal(fails.length, 2);
      assert.equal(fails[0].action, "wait");
      assert.equal(fails[0].revisionId, null);
      assert.equal(fails[1].action, "rollback");
    });

    test("too few requests wait (no verdict) and add up over the step; pause holds, resume goes on, restart resumes", async () => {
      let c = canaries();
      await c.start({ service: "payments", baseline: "v1", canary: "v2", settings: { intervalSeconds: INTERVAL, minRequests: 60 } }, "olga");
      // 40 rps × 5% = 2 canary requests a second: one window has ~20, three windows reach 60.
      await runSeconds(c, INTERVAL + 4, 40, {});
      let view = await c.view("payments");
      assert.equal(view.checks.at(-1)?.verdict, "insufficient-data");
      assert.equal(view.rollout?.stepIndex, 0);
      await assert.rejects(c.command("payments", "resume", "olga"), (e: ConsoleError) => e.code === "CONSOLE_CONFLICT");
      await c.command("payments", "pause", "olga");
      await runSeconds(c, 3 * (INTERVAL + 4), 40, {});
      view = await c.view("payments");
      assert.equal(view.rollout?.phase, "paused");
      assert.equal(view.checks.length, 1, "no check while paused");
      await c.command("payments", "resume", "olga");
      // A restarted console: a new Canaries over the same database picks the rollout up.
      c = canaries();
      await runSeconds(c, 3 * (INTERVAL + 4), 40, {});
      view = await c.view("payments");
      assert.equal(view.rollout?.stepIndex, 1, "the step's windows added up to a pass");
      const lastPass = view.checks.findLast((k) => k.verdict === "pass");
      assert.ok(lastPass && lastPass.canaryRequests >= 60 && lastPass.windowEnd.getTime() - lastPass.windowStart.getTime() > INTERVAL * 1000);
      // Abort: the baseline takes everything back, as a revision; nothing more can be done with the rollout.
      await c.command("payments", "abort", "olga");
      view = await c.view("payments");
      assert.equal(view.rollout?.phase, "aborted");
      assert.deepEqual((await repos.policies.get("payments")).split?.find((e) => e.version === "v2")?.weight, 0);
      const [newest] = await changes.history({ service: "payments", limit: 1 });
      assert.equal(newest.kind, "canary-abort");
      assert.match(newest.summary, /aborted by olga at 10%/);
      await assert.rejects(c.command("payments", "pause", "olga"), (e: ConsoleError) => e.code === "CONSOLE_NOT_FOUND");
    });

    test("bad input: unknown version, same version twice, invalid settings (the field is named)", async () => {
      const c = canaries();
      const code = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (e) {
          return `${(e as ConsoleError).code}: ${(e as Error).message}`;
        }
        return "resolved";
      };
      assert.match(
        await code(c.start({ service: "payments", baseline: "v1", canary: "v9" }, "o")),
        /CONSOLE_INVALID_INPUT: canary: unknown version v9/,
      );
      assert.match(await code(c.start({ service: "payments", baseline: "v1", canary: "v1" }, "o")), /CONSOLE_INVALID_INPUT/);
      assert.match(
        await code(c.start({ service: "payments", baseline: "v1", canary: "v2", settings: { steps: [50, 10] } }, "o")),
        /CONSOLE_INVALID_CONFIG: settings\.steps\.1/,
      );
      assert.match(await code(c.start({ service: "nope", baseline: "v1", canary: "v2" }, "o")), /CONSOLE_NOT_FOUND/);
    });
  });

/**
 * Span storage against a real (migrated) SQLite database: ingestion is queued and batched off the caller, and the
 * periodic retention keeps the store within its count and age limits with the newest spans remaining.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Span } from "@trellis/protocol";
import { emptyHistogram, observe } from "@trellis/protocol";
import { DATABASES } from "@trellis/testkit";
import { createLogger } from "../server/log.ts";
import { RollupTask, seriesFor } from "../server/observability/rollups.ts";
import { SpanIngestor } from "../server/observability/span-ingest.ts";
import type { Repositories } from "../server/repositories/index.ts";
import { TelemetryStore } from "../server/telemetry-store.ts";
import { type MigratedDb, openMigratedDb } from "./support/migrated-db.ts";

const log = createLogger({ component: "test" });
// One body, run once per database (SQLite, PostgreSQL): reset by each run's before().
let db: MigratedDb;
let repos: Repositories;

function spanAt(i: number, startMs: number, over: Partial<Span> = {}): Span {
  return {
    traceId: i.toString(16).padStart(32, "0"),
    spanId: (i + 1).toString(16).padStart(16, "0"),
    kind: "server",
    service: "web",
    version: "v1",
    peerService: "ingress",
    name: `GET /n/${i}`,
    startTimeUnixMs: startMs,
    durationMs: 1 + (i % 7),
    status: i % 10 === 0 ? 503 : 200,
    ...(i % 10 === 0 ? { error: "http-503" } : {}),
    attributes: { i },
    events: [],
    ...over,
  };
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
}

for (const kind of DATABASES)
  describe(`span storage (${kind})`, () => {
    before(async () => {
      db = await openMigratedDb(kind, log);
      repos = db.repos;
    });

    after(async () => {
      await db?.close();
    });

    test("retention holds: more spans than the limit in, the store stays within it and the newest remain", async () => {
      const ingest = new SpanIngestor(
        repos.spans,
        { maxQueue: 10_000, batchSize: 40, flushIntervalMs: 50, maxSpans: 100, maxAgeMs: 3_600_000, pruneIntervalMs: 100 },
        log,
      );
      ingest.start();
      try {
        const now = Date.now();
        const spans = Array.from({ length: 250 }, (_, i) => spanAt(i, now - 250_000 + i * 1000));
        // Arrive in several frames, as from agents; enqueue never waits.
        for (let i = 0; i < spans.length; i += 50) ingest.enqueue(spans.slice(i, i + 50));
        await until(() => ingest.written === 250, 10_000, "all 250 spans written");
        const prunesAfterWrite = ingest.prunes;
        await until(() => ingest.prunes > prunesAfterWrite, 5_000, "a periodic prune after the writes");
        const stored = await repos.spans.count();
        assert.ok(stored <= 100, `store within its limit (got ${stored})`);
        assert.equal(stored, 100);
        const page = await repos.spans.search({ service: "web", limit: 100 });
        const kept = new Set(page.traces.map((t) => t.traceId));
        for (const s of spans.slice(150)) assert.ok(kept.has(s.traceId), `newest span ${s.name} remains`);
        for (const s of spans.slice(0, 150)) assert.ok(!kept.has(s.traceId), `old span ${s.name} is gone`);
        assert.equal(page.traces[0].traceId, spans[249].traceId, "newest first");
      } finally {
        await ingest.close();
      }
    });

    test("spans older than the age limit are removed", async () => {
      const now = Date.now();
      await repos.spans.insertMany([spanAt(1000, now - 2 * 3_600_000), spanAt(1001, now - 1000)]);
      await repos.spans.prune(1_000_000, 3_600_000, now);
      assert.equal((await repos.spans.trace(spanAt(1000, 0).traceId)).length, 0);
      assert.equal((await repos.spans.trace(spanAt(1001, 0).traceId)).length, 1);
    });

    test("search filters (service, edge, errors, min duration) and cursor pagination without duplicates", async () => {
      const now = Date.now();
      const many = Array.from({ length: 30 }, (_, i) =>
        spanAt(2000 + i, now - 30_000 + i * 100, { service: "cart", kind: "client", peerService: i % 2 ? "inventory" : "catalog", durationMs: i }),
      );
      await repos.spans.insertMany(many);
      const edge = await repos.spans.search({ service: "cart", peer: "inventory", limit: 100 });
      assert.equal(edge.traces.length, 15);
      const errors = await repos.spans.search({ service: "cart", errorsOnly: true, limit: 100 });
      assert.ok(errors.traces.every((t) => t.matched.error !== null));
      assert.equal(errors.traces.length, 3);
      const slow = await repos.spans.search({ service: "cart", minDurationMs: 25, sort: "slowest", limit: 100 });
      assert.deepEqual(
        slow.traces.map((t) => t.matched.durationMs),
        [29, 28, 27, 26, 25],
      );
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pageNo = 0; pageNo < 10; pageNo++) {
        const p = await repos.spans.search({ service: "cart", limit: 7, cursor });
        seen.push(...p.traces.map((t) => t.traceId));
        if (!p.nextCursor) break;
        cursor = p.nextCursor;
      }
      assert.equal(seen.length, 30);
      assert.equal(new Set(seen).size, 30);
    });

    test("settled minutes of the live windows are rolled up into MetricRollup rows; long ranges chart from them", async () => {
      const store = new TelemetryStore();
      const now = Date.now();
      const minute = Math.floor(now / 60_000) * 60 - 120; // two minutes ago, minute-aligned (unix s)
      for (let s = 0; s < 60; s++) {
        const latency = emptyHistogram();
        for (let i = 0; i < 10; i++) observe(latency, 4);
        store.ingest(
          {
            windowStart: (minute + s) * 1000,
            edges: [
              {
                source: "web",
                sourceVersion: "v1",
                destination: "payments",
                destinationVersion: "v2",
                statusClass: s < 6 ? "5xx" : "2xx",
                requests: 10,
                errors: s < 6 ? 10 : 0,
                bytesIn: 0,
                bytesOut: 0,
                mtls: 0,
                latency,
              },
            ],
          },
          (minute + s) * 1000 + 900, // each window arrives in its own second
        );
      }
      const task = new RollupTask(store, repos.rollups, { intervalMs: 60_000, maxAgeMs: 86_400_000 }, log);
      await task.start();
      task.stop();
      assert.ok((await task.run(now)) >= 1);
      const rows = await repos.rollups.range({ fromMs: minute * 1000, toMs: (minute + 60) * 1000, destination: "payments" });
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0].requests, rows[0].errors, rows[0].source], [600, 60, "web"]);
      assert.equal(await task.run(now), 0, "a minute is rolled once");
      // A 6-hour chart of the edge: rollups for minutes beyond the live window (here one 30 minutes ago), memory after.
      const old = minute - 28 * 60;
      await repos.rollups.insertMany([{ ...rows[0], bucketStartMs: old * 1000, requests: 120, errors: 0 }]);
      const series = await seriesFor(store, repos.rollups, { source: "web", destination: "payments" }, 6 * 3600, now);
      assert.equal(series.binSeconds, 300);
      assert.ok(series.liveFromMs > old * 1000 && series.liveFromMs <= minute * 1000);
      assert.equal(
        series.bins.reduce((a, b) => a + b.requests, 0),
        720,
        "120 from the rollup + 600 live",
      );
      assert.equal(series.bins.find((b) => b.t <= old * 1000 && b.t + 300_000 > old * 1000)!.requests, 120);
      const inbound = await seriesFor(store, repos.rollups, { service: "payments" }, 3600, now);
      assert.equal(
        inbound.bins.reduce((a, b) => a + b.requests, 0),
        720,
      );
      const recent = await seriesFor(store, repos.rollups, { service: "payments" }, 300, now);
      assert.equal(
        recent.bins.reduce((a, b) => a + b.requests, 0),
        600,
        "5 min: live memory only",
      );
      assert.equal(recent.bins.find((b) => b.requests > 0)!.errorPct, 100);
    });
  });

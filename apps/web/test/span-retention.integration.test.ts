/**
 * Span storage against a real (migrated) SQLite database: ingestion is queued and batched off the caller, and the
 * periodic retention keeps the store within its count and age limits with the newest spans remaining.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Span } from "@trellis/protocol";
import { closeDb, openDb } from "../server/db.ts";
import { createLogger } from "../server/log.ts";
import { applyMigrations } from "../server/migrate.ts";
import { SpanIngestor } from "../server/observability/span-ingest.ts";
import { type Repositories, createRepositories } from "../server/repositories/index.ts";

const dir = mkdtempSync(path.join(tmpdir(), "trellis-spans-"));
const log = createLogger({ component: "test" });
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

describe("span storage", () => {
  before(async () => {
    const databaseUrl = `file:${path.join(dir, "trellis.db")}`;
    await applyMigrations({ dataDir: dir, databaseUrl, log });
    repos = createRepositories(await openDb(databaseUrl));
  });

  after(async () => {
    await closeDb();
    rmSync(dir, { recursive: true, force: true });
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
});

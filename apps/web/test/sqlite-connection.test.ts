/**
 * The console's SQLite client keeps one connection (db-sqlite.ts): transactions run on it, so the connection settings
 * hold after any number of transactions, a rolled-back or failed transaction leaves nothing open behind it, and
 * statements and transactions issued together still run one at a time.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@libsql/client";
import { closeDb, type Db, openDb } from "../server/db.ts";
import { createLogger } from "../server/log.ts";
import { applyMigrations } from "../server/migrate.ts";

const quiet = { ...createLogger(), info() {}, warn() {}, debug() {} };

describe("the SQLite client on one connection", () => {
  let dir: string;
  let url: string;
  let db: Db;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "trellis-sqlite-conn-"));
    url = `file:${path.join(dir, "trellis.db")}`;
    await applyMigrations({ dataDir: dir, databaseUrl: url, log: quiet });
    db = await openDb(url);
  });
  after(async () => {
    await closeDb();
    rmSync(dir, { recursive: true, force: true });
  });

  const pragma = async (name: string) => Object.values((await db.$queryRawUnsafe<Record<string, unknown>[]>(`PRAGMA ${name}`))[0])[0];

  test("its settings hold after transactions (each one no longer opens a fresh connection)", async () => {
    for (let i = 0; i < 3; i++) {
      await db.$transaction([db.service.create({ data: { name: `tx-${i}` } })]);
      await db.$transaction(async (tx) => tx.service.update({ where: { name: `tx-${i}` }, data: { name: `tx-${i}-renamed` } }));
    }
    assert.equal(Number(await pragma("busy_timeout")), 5000);
    assert.equal(Number(await pragma("synchronous")), 1, "NORMAL");
    assert.equal(String(await pragma("journal_mode")).toLowerCase(), "wal");
    assert.equal(await db.service.count({ where: { name: { endsWith: "-renamed" } } }), 3);
  });

  test("a failed transaction is rolled back and leaves no transaction open behind it", async () => {
    await assert.rejects(
      db.$transaction(async (tx) => {
        await tx.service.create({ data: { name: "rolled-back" } });
        throw new Error("abort");
      }),
      /abort/,
    );
    // A unique violation inside a batch: the whole batch is undone.
    await assert.rejects(db.$transaction([db.service.create({ data: { name: "batch-a" } }), db.service.create({ data: { name: "tx-0-renamed" } })]));
    await db.service.create({ data: { name: "after" } });
    // Read through a second, independent connection: "after" was committed (not left inside a dangling transaction).
    const other = createClient({ url });
    try {
      const names = (await other.execute("SELECT name FROM Service")).rows.map((r) => String(r.name));
      assert.ok(names.includes("after"), `committed: ${names.join(",")}`);
      assert.ok(!names.includes("rolled-back") && !names.includes("batch-a"), `nothing of the failed transactions: ${names.join(",")}`);
    } finally {
      other.close();
    }
  });

  test("statements and transactions issued together run one at a time, each whole", async () => {
    const writes = Array.from({ length: 20 }, (_, i) =>
      i % 2
        ? db.$transaction([
            db.service.create({ data: { name: `c-${i}` } }),
            db.service.update({ where: { name: `c-${i}` }, data: { name: `c-${i}-ok` } }),
          ])
        : db.service.create({ data: { name: `c-${i}-ok` } }),
    );
    await Promise.all([...writes, db.service.count()]);
    assert.equal(await db.service.count({ where: { name: { startsWith: "c-" }, AND: { name: { endsWith: "-ok" } } } }), 20);
  });
});

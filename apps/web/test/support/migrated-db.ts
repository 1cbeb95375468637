/**
 * For the in-process storage tests: a fresh database of one kind (see DATABASES in @trellis/testkit), migrated and
 * opened the way the console does it at start (migrate deploy, then openDb), with the repositories over it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DatabaseKind, testDatabase } from "@trellis/testkit";
import { closeDb, openDb } from "../../server/db.ts";
import type { Logger } from "../../server/log.ts";
import { applyMigrations } from "../../server/migrate.ts";
import { createRepositories, type Repositories } from "../../server/repositories/index.ts";

export interface MigratedDb {
  repos: Repositories;
  /** Closes the client (the process-wide one, see db.ts) and removes the database. */
  close(): Promise<void>;
}

export async function openMigratedDb(kind: DatabaseKind, log: Logger): Promise<MigratedDb> {
  const dir = mkdtempSync(path.join(tmpdir(), "trellis-db-"));
  const db = await testDatabase(kind);
  const remove = async () => {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const databaseUrl = db.env.DATABASE_URL ?? `file:${path.join(dir, "trellis.db")}`;
    await applyMigrations({ dataDir: dir, databaseUrl, log });
    const repos = createRepositories(await openDb(databaseUrl));
    return {
      repos,
      async close() {
        await closeDb();
        await remove();
      },
    };
  } catch (err) {
    await remove();
    throw err;
  }
}

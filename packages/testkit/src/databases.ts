/**
 * The databases the console's integration tests run against: each such test file is one body, run once per entry of
 * `DATABASES` (`for (const kind of DATABASES) describe(…)`), so both engines see the same checks.
 * TRELLIS_TEST_DATABASES=sqlite (comma-separated) narrows the list, e.g. on a machine without PostgreSQL.
 */
import { type PostgresServer, startPostgres } from "./postgres.ts";

export type DatabaseKind = "sqlite" | "postgres";

const ALL: DatabaseKind[] = ["sqlite", "postgres"];

export const DATABASES: readonly DatabaseKind[] = process.env.TRELLIS_TEST_DATABASES
  ? ALL.filter((k) => process.env.TRELLIS_TEST_DATABASES!.split(",").includes(k))
  : ALL;

export interface TestDatabase {
  kind: DatabaseKind;
  /** Merged into the console's environment (`startConsole({ env })`): DATABASE_URL for PostgreSQL. */
  env: Record<string, string>;
  /** Stops and removes what `testDatabase` started (nothing for SQLite: its file is in the console's data dir). */
  stop(): Promise<void>;
}

/** A fresh, empty database of that kind. PostgreSQL: a throwaway server of its own (about 1 s). */
export async function testDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "sqlite") return { kind, env: {}, stop: async () => {} };
  const server: PostgresServer = await startPostgres();
  try {
    const url = await server.createDatabase("trellis");
    return { kind, env: { DATABASE_URL: url }, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

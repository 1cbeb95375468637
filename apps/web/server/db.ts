/**
 * The one PrismaClient of the process (JS query compiler, a driver adapter). Only repositories use it.
 * SQLite (libsql adapter, `DATABASE_URL=file:…`, the default) or PostgreSQL (pg adapter, `postgres://…`, db-postgres.ts).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaClient } from "../generated/prisma/client.ts";
import { isPostgresUrl } from "./database-url.ts";
import { OneConnectionLibSQL, SQLITE_PRAGMAS } from "./db-sqlite.ts";

export type Db = InstanceType<typeof PrismaClient>;

const registry = globalThis as unknown as { __trellisPrisma?: Db };

export interface OpenDbOptions {
  /** Called with the duration of every database operation (a query, a raw statement), for the console's /metrics. */
  onOperation?: (ms: number) => void;
}

export async function openDb(databaseUrl: string, opts: OpenDbOptions = {}): Promise<Db> {
  if (registry.__trellisPrisma) return registry.__trellisPrisma;
  // Both clients come from one set of models (scripts/derive-postgres-schema.mts): their model APIs are the same, only
  // the provider-specific type parameters differ, so repositories take either as `Db`.
  const prisma = isPostgresUrl(databaseUrl)
    ? ((await (await import("./db-postgres.ts")).openPostgres(databaseUrl)) as unknown as Db)
    : await openSqlite(databaseUrl);
  registry.__trellisPrisma = opts.onOperation ? timed(prisma, opts.onOperation) : prisma;
  return registry.__trellisPrisma;
}

/** The same client, every operation timed (Prisma's query extension: transactions' inner operations included). */
function timed(prisma: Db, onOperation: (ms: number) => void): Db {
  return prisma.$extends({
    query: {
      async $allOperations({ args, query }) {
        const started = performance.now();
        try {
          return await query(args);
        } finally {
          onOperation(performance.now() - started);
        }
      },
    },
  }) as unknown as Db;
}

async function openSqlite(databaseUrl: string): Promise<Db> {
  if (!databaseUrl.startsWith("file:")) {
    throw new Error("DATABASE_URL must be file:… (SQLite) or postgres://… (PostgreSQL)");
  }
  mkdirSync(path.dirname(databaseUrl.slice("file:".length)), { recursive: true });
  const prisma = new PrismaClient({ adapter: new OneConnectionLibSQL({ url: databaseUrl }) });
  await prisma.$connect();
  for (const pragma of SQLITE_PRAGMAS) await prisma.$queryRawUnsafe(pragma);
  return prisma;
}

export async function closeDb(): Promise<void> {
  const prisma = registry.__trellisPrisma;
  registry.__trellisPrisma = undefined;
  if (prisma) await prisma.$disconnect();
}

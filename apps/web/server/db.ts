/** The one PrismaClient of the process (libsql driver adapter, JS query compiler). Only repositories use it. */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaClient } from "../generated/prisma/client.ts";

export type Db = InstanceType<typeof PrismaClient>;

const registry = globalThis as unknown as { __trellisPrisma?: Db };

export async function openDb(databaseUrl: string): Promise<Db> {
  if (registry.__trellisPrisma) return registry.__trellisPrisma;
  if (!databaseUrl.startsWith("file:")) {
    throw new Error("only SQLite (DATABASE_URL=file:…) is supported by this console build; PostgreSQL comes later");
  }
  mkdirSync(path.dirname(databaseUrl.slice("file:".length)), { recursive: true });
  const prisma = new PrismaClient({ adapter: new PrismaLibSQL({ url: databaseUrl }) });
  await prisma.$connect();
  // WAL lets readers (tRPC) run while the hub writes; busy_timeout rides out short write contention.
  await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await prisma.$queryRawUnsafe("PRAGMA busy_timeout = 5000");
  registry.__trellisPrisma = prisma;
  return prisma;
}

export async function closeDb(): Promise<void> {
  const prisma = registry.__trellisPrisma;
  registry.__trellisPrisma = undefined;
  if (prisma) await prisma.$disconnect();
}

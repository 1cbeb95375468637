/**
 * The PrismaClient for PostgreSQL (`DATABASE_URL=postgres://…`): the client generated from prisma/postgresql (derived
 * from the SQLite schema, same models) over the stock pg driver adapter. Imported dynamically by db.ts, so that a
 * SQLite console never loads pg.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma-postgresql/client.ts";
import type { Db } from "./db.ts";

export async function openPostgres(databaseUrl: string): Promise<Db> {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  await prisma.$connect();
  // Both clients come from one set of models (scripts/derive-postgres-schema.mts): their model APIs are the same, only
  // the provider-specific type parameters differ, so repositories take either as `Db`.
  return prisma as unknown as Db;
}

/**
 * The PrismaClient for PostgreSQL (`DATABASE_URL=postgres://…`): the client generated from prisma/postgresql (derived
 * from the SQLite schema, same models) over the stock pg driver adapter. Imported dynamically by db.ts, so that a
 * SQLite console never loads pg.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma-postgresql/client.ts";

export async function openPostgres(databaseUrl: string): Promise<InstanceType<typeof PrismaClient>> {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
  await prisma.$connect();
  return prisma;
}

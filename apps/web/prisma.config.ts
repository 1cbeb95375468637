/**
 * Prisma CLI configuration (Prisma 6.19.3): the JS (wasm) schema engine with a driver adapter, so that every command
 * works offline (see /work/shared/STACK.md). Run the CLI through `node scripts/prisma.mjs <command>`.
 *
 * The database decides the schema: `DATABASE_URL=postgres://…` (or TRELLIS_DB_PROVIDER=postgresql, for `generate` and
 * `migrate diff`, which need no database) uses prisma/postgresql (derived by scripts/derive-postgres-schema.mjs);
 * anything else is SQLite with prisma/schema.prisma.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { defineConfig } from "prisma/config";
import { isPostgresUrl } from "./server/database-url.ts";

const webDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(webDir, "../..");
const dataDir = process.env.TRELLIS_DATA_DIR ? path.resolve(process.env.TRELLIS_DATA_DIR) : path.join(repoRoot, "data");
const url = process.env.DATABASE_URL || `file:${path.join(dataDir, "trellis.db")}`;
const postgres = process.env.TRELLIS_DB_PROVIDER === "postgresql" || isPostgresUrl(url);
const prismaDir = postgres ? path.join(repoRoot, "prisma", "postgresql") : path.join(repoRoot, "prisma");
// libsql cannot create the database file in a directory that does not exist.
if (!process.env.DATABASE_URL && !postgres) mkdirSync(dataDir, { recursive: true });

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join(prismaDir, "schema.prisma"),
  migrations: { path: path.join(prismaDir, "migrations") },
  async adapter() {
    if (!postgres) return new PrismaLibSQL({ url });
    // Loaded only for PostgreSQL, so that SQLite commands never need pg.
    const { postgresCliAdapter } = await import("./scripts/postgres-cli-adapter.ts");
    return postgresCliAdapter(url);
  },
});

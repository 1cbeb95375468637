/**
 * Prisma CLI configuration (Prisma 6.19.3): the JS (wasm) schema engine with the libsql driver adapter, so that every
 * command works offline (see /work/shared/STACK.md). Run the CLI through `node scripts/prisma.mjs <command>`.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { defineConfig } from "prisma/config";

const webDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(webDir, "../..");
const dataDir = process.env.TRELLIS_DATA_DIR ? path.resolve(process.env.TRELLIS_DATA_DIR) : path.join(repoRoot, "data");
const url = process.env.DATABASE_URL || `file:${path.join(dataDir, "trellis.db")}`;
// libsql cannot create the database file in a directory that does not exist.
if (!process.env.DATABASE_URL) mkdirSync(dataDir, { recursive: true });

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join(repoRoot, "prisma", "schema.prisma"),
  migrations: { path: path.join(repoRoot, "prisma", "migrations") },
  async adapter() {
    return new PrismaLibSQL({ url });
  },
});

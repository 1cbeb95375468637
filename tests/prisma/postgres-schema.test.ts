/**
 * prisma/postgresql (schema + migrations) is derived from the SQLite schema by scripts/derive-postgres-schema.mts and
 * kept in git: this fails when someone changed the SQLite side (a new model, a new migration) without re-deriving, or
 * when the derived migrations do not build the derived schema.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, run, startPostgres } from "@trellis/testkit";
import { derivePostgresSchema, staleness } from "../../scripts/derive-postgres-schema.mts";

test("the derived PostgreSQL schema and migrations are up to date (the script's --check passes)", async () => {
  assert.deepEqual(staleness(), [], "run: node --import tsx scripts/derive-postgres-schema.mts");
  await run(process.execPath, ["--import", "tsx", join(repoRoot, "scripts/derive-postgres-schema.mts"), "--check"], { cwd: repoRoot });
});

test("the PostgreSQL migrations build exactly the derived schema (migrate diff through a shadow database)", async () => {
  // Also covers the CLI's replaced connectToShadowDb (postgres-cli-adapter.ts): the diff replays the migrations there.
  const server = await startPostgres();
  try {
    const url = await server.createDatabase("diff");
    const args = ["migrate", "diff", "--from-migrations", "prisma/postgresql/migrations", "--to-schema-datamodel", "prisma/postgresql/schema.prisma"];
    const out = await run(process.execPath, [join(repoRoot, "apps/web/scripts/prisma.mjs"), ...args, "--exit-code"], {
      cwd: repoRoot,
      env: { DATABASE_URL: url },
    });
    assert.match(out, /No difference detected/);
  } finally {
    await server.stop();
  }
});

test("any model derives: a new model is carried over as it is, only the datasource and the client output change", () => {
  const sqlite = readFileSync(join(repoRoot, "prisma/schema.prisma"), "utf8");
  const withToken = `${sqlite}\nmodel ApiTokenProbe {\n  id        String   @id @default(cuid())\n  hash      String   @unique\n  expiresAt DateTime?\n}\n`;
  const pg = derivePostgresSchema(withToken);
  assert.match(pg, /provider = "postgresql"/);
  assert.doesNotMatch(pg, /"sqlite"|file:/);
  assert.match(pg, /output\s+= "\.\.\/\.\.\/apps\/web\/generated\/prisma-postgresql"/);
  assert.match(pg, /model ApiTokenProbe \{\n {2}id {8}String {3}@id @default\(cuid\(\)\)/);
});

test("a construct without a PostgreSQL mapping fails the derivation instead of a deployed database", () => {
  const sqlite = readFileSync(join(repoRoot, "prisma/schema.prisma"), "utf8");
  assert.throws(() => derivePostgresSchema(`${sqlite}\nmodel X {\n  id String @id @db.Text\n}\n`), /@db\./);
  assert.throws(() => derivePostgresSchema(sqlite.replace('"sqlite"', '"mysql"')), /provider = "sqlite"/);
});

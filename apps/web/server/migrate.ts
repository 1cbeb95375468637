/**
 * Applies the migrations at console start (prisma/migrations for SQLite, prisma/postgresql/migrations for
 * `postgres://…`: prisma.config.ts picks them by DATABASE_URL) with the Prisma CLI's own `migrate deploy` (JS schema engine, offline),
 * so `_prisma_migrations` is exactly what Prisma expects. Takes ~1 s. Output is captured and logged as JSON.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { WEB_DIR } from "./config.ts";
import type { Logger } from "./log.ts";

export async function applyMigrations(opts: { dataDir: string; databaseUrl: string; log: Logger }): Promise<void> {
  const started = Date.now();
  const script = path.join(WEB_DIR, "scripts", "prisma.mjs");
  const env = { ...process.env, TRELLIS_DATA_DIR: opts.dataDir, DATABASE_URL: opts.databaseUrl };
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile(
      process.execPath,
      [script, "migrate", "deploy"],
      { cwd: WEB_DIR, env, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
  });
  const output = `${stdout}\n${stderr}`;
  if (code !== 0) {
    opts.log.error("migrations failed", { exitCode: code, output: output.trim().slice(-4000) });
    throw new Error("prisma migrate deploy failed");
  }
  const applied = /The following migration\(s\) have been applied/.test(output);
  opts.log.info("migrations applied", {
    changed: applied,
    upToDate: /No pending migrations to apply/.test(output),
    ms: Date.now() - started,
  });
}

#!/usr/bin/env node
/**
 * Runs the Prisma CLI (6.19.3) the way it works offline here: JS query compiler, no telemetry checkpoint, and a
 * preload that unref()s the JS engine's long timers so the CLI exits as soon as it is done (STACK.md).
 *   node scripts/prisma.mjs generate | migrate deploy | migrate status | migrate diff ...
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, "..");
const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
const preload = path.join(here, "unref-timers.cjs");

const env = {
  ...process.env,
  PRISMA_CLI_QUERY_ENGINE_TYPE: "client",
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require=${preload}`.trim(),
};
// Path arguments are taken relative to where the script was run from (the CLI itself runs in apps/web).
const PATH_FLAGS = new Set([
  "--schema",
  "--config",
  "--from-schema-datamodel",
  "--to-schema-datamodel",
  "--from-schema-datasource",
  "--to-schema-datasource",
  "--from-migrations",
  "--to-migrations",
  "--output",
]);
const args = process.argv.slice(2).map((a, i, all) => (i > 0 && PATH_FLAGS.has(all[i - 1]) ? path.resolve(process.cwd(), a) : a));
if (!args.includes("--config")) args.push("--config", path.join(webDir, "prisma.config.ts"));
const r = spawnSync(process.execPath, [cli, ...args], { stdio: "inherit", env, cwd: webDir });
process.exit(r.status ?? 1);

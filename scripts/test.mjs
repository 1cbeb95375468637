#!/usr/bin/env node
// `npm test`: every node:test file in the workspace (units, then real-process integration), then the browser tests.
// Flags: --no-browser skips Playwright; any other argument is a path filter on the node:test files.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const noBrowser = args.includes("--no-browser");
const filters = args.filter((a) => !a.startsWith("--"));

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name === ".next") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

const groups = ["packages", "apps", "examples"].flatMap((top) =>
  existsSync(join(root, top)) ? readdirSync(join(root, top)).map((pkg) => join(root, top, pkg, "test")) : [],
);
groups.push(join(root, "tests"), join(root, "bench", "test"));
let files = groups.flatMap(testFiles).sort();
// Units first (fast feedback), integration after.
files.sort((a, b) => Number(a.includes("integration")) - Number(b.includes("integration")) || a.localeCompare(b));
if (filters.length) files = files.filter((f) => filters.some((p) => f.includes(p)));

const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  TURBO_TELEMETRY_DISABLED: "1",
  CHECKPOINT_DISABLE: "1",
};
let failed = false;
if (files.length) {
  console.log(`node:test — ${files.length} files`);
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=180000", ...files], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  failed ||= r.status !== 0;
}
if (!noBrowser && !filters.length) {
  const r = spawnSync("npx", ["playwright", "test", "-c", "playwright/playwright.config.ts"], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// `npm test`: provisions the system programs the selected tests run (installs them, or stops at once with the command
// to run), builds (turbo, cached), runs every node:test file in the workspace (units, then real-process integration),
// then the browser tests. Flags: --no-browser skips Playwright; any other argument is a path filter on the node:test
// files (and skips Playwright).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureSystemPackages } from "./system-packages.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const noBrowser = args.includes("--no-browser");
const filters = args.filter((a) => !a.startsWith("--"));
const browser = !noBrowser && filters.length === 0;

/** Programs a test may run for real, with the distribution package that has them. */
const SYSTEM_PROGRAMS = {
  promtool: "prometheus",
  prometheus: "prometheus",
  openssl: "openssl",
  curl: "curl",
  h2load: "nghttp2-client",
  ip: "iproute2",
  iptables: "iptables",
  setpriv: "util-linux",
  initdb: "postgresql",
};

/**
 * Kit names that mean a system program runs for the test (its name is in the kit, not in the test file): a test that
 * loops over DATABASES runs PostgreSQL too.
 */
const KIT_PROGRAMS = {
  startPostgres: "initdb",
  testDatabase: "initdb",
  DATABASES: "initdb",
};

/** @param {string} dir @returns {string[]} */
function testFiles(dir) {
  if (!existsSync(dir)) return [];
  /** @type {string[]} */
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

// A test that runs a system program names it as a string ("promtool", "/usr/bin/promtool").
/** @type {Record<string, string>} */
const need = {};
const sources = files.map((f) => readFileSync(join(root, f), "utf8"));
for (const [bin, pkg] of Object.entries(SYSTEM_PROGRAMS)) if (sources.some((text) => new RegExp(`["'/]${bin}["']`).test(text))) need[bin] = pkg;
for (const [helper, bin] of Object.entries(KIT_PROGRAMS))
  if (sources.some((text) => new RegExp(`\\b${helper}\\b`).test(text)))
    need[bin] = SYSTEM_PROGRAMS[/** @type {keyof typeof SYSTEM_PROGRAMS} */ (bin)];
if (browser && !process.env.CHROMIUM_PATH) need["/usr/bin/chromium"] = "chromium";
ensureSystemPackages(need, { why: "npm test" });

const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  TURBO_TELEMETRY_DISABLED: "1",
  CHECKPOINT_DISABLE: "1",
};
/** @param {string} cmd @param {string[]} argv */
const run = (cmd, argv) => spawnSync(cmd, argv, { cwd: root, stdio: "inherit", env }).status === 0;

if (!run("npx", ["turbo", "run", "build", "--output-logs=errors-only"])) process.exit(1);
let failed = false;
if (files.length) {
  console.log(`node:test — ${files.length} files`);
  // Run first, then combine: `failed ||= run(…)` would skip the run once something failed.
  const ok = run(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=180000", ...files]);
  failed = failed || !ok;
}
if (browser) {
  const ok = run("npx", ["playwright", "test", "-c", "playwright/playwright.config.ts"]);
  failed = failed || !ok;
}
process.exit(failed ? 1 : 0);

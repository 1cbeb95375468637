import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";
import { CHROMIUM } from "@trellis/testkit/browser";

const port = Number(process.env.PLAYWRIGHT_PORT ?? 3199);
// A fresh data dir per run: the browser tests see a console and shop started exactly as `npm start` does.
const dataDir = process.env.PLAYWRIGHT_DATA_DIR ?? mkdtempSync(join(tmpdir(), "trellis-playwright-"));
/** The first admin's password for the browser tests' console (fixtures.ts signs in with it). */
export const ADMIN_PASSWORD = process.env.TRELLIS_ADMIN_PASSWORD ?? "playwright-admin-password";
process.env.TRELLIS_ADMIN_PASSWORD = ADMIN_PASSWORD;
// Workers inherit the runner's environment: specs find the shop's ports table under this dir.
process.env.PLAYWRIGHT_DATA_DIR = dataDir;

export default defineConfig({
  testDir: ".",
  testMatch: /.*\.spec\.ts$/,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  retries: 0,
  workers: 1,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: CHROMIUM,
  },
  webServer: {
    command: "node --import tsx scripts/start.mts",
    cwd: "..",
    url: `http://127.0.0.1:${port}/`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    env: {
      PORT: String(port),
      TRELLIS_DATA_DIR: dataDir,
      SHOP_RPS: "40",
      TRELLIS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      NEXT_TELEMETRY_DISABLED: "1",
      TURBO_TELEMETRY_DISABLED: "1",
      CHECKPOINT_DISABLE: "1",
    },
  },
});

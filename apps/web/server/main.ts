/**
 * The Trellis console process: `node --import tsx apps/web/server/main.ts` (docs/processes.md). What it serves and
 * how it is wired: console/build.ts; who may reach what: console/gate.ts. Prints {"msg":"console listening","url":…}
 * once migrations are applied and Next is prepared; SIGINT / SIGTERM stop it within SHUTDOWN_BUDGET_MS.
 */
import { hasProductionBuild, loadConfig } from "./config.ts";
import { buildConsole, type Console } from "./console/build.ts";
import { captureConsole, log } from "./log.ts";

const SHUTDOWN_BUDGET_MS = 2_000;

async function main(): Promise<void> {
  const started = Date.now();
  captureConsole();
  const cfg = loadConfig();
  // Decide the mode before Next (and React) are loaded: they read NODE_ENV at import time.
  (process.env as Record<string, string>).NODE_ENV = cfg.dev ? "development" : "production";
  process.env.NEXT_TELEMETRY_DISABLED ??= "1";
  process.env.CHECKPOINT_DISABLE ??= "1";
  if (!cfg.dev && !hasProductionBuild()) {
    log.error("no production build of the console", { fix: "npm run build -w @trellis/web (or NODE_ENV=development)" });
    process.exit(1);
  }

  let running: Console | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("console stopping", { signal });
    setTimeout(() => {
      log.warn("shutdown budget exceeded; exiting");
      process.exit(1);
    }, SHUTDOWN_BUDGET_MS).unref();
    // Stopped while starting: nothing is serving yet.
    if (!running) process.exit(0);
    try {
      await running.close();
      log.info("console stopped");
      process.exit(0);
    } catch (err) {
      log.error("shutdown failed", { error: err as Error });
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  running = await buildConsole(cfg, log);
  log.info("console listening", { url: running.url, ms: Date.now() - started });
}

process.on("unhandledRejection", (err) => log.error("unhandled rejection", { error: err as Error }));

main().catch((err: unknown) => {
  log.error("console failed to start", { error: err as Error, stack: (err as Error)?.stack });
  process.exit(1);
});

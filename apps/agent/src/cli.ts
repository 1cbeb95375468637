/** `trellis-agent` entry point: parse flags, start the agent, stop it cleanly on SIGTERM/SIGINT (exit 0, ≤ 2 s). */

import { startAgent } from "./agent.ts";
import { parseAgentArgs, USAGE, UsageError } from "./args.ts";
import { INIT_USAGE } from "./capture/flags.ts";
import { initCapture } from "./capture/init.ts";
import { createLogger } from "./log.ts";

/** `trellis-agent init-capture …`: install/remove the capture rules, then exit (no agent is started). */
function initStep(argv: string[]): never {
  try {
    process.exit(initCapture(argv));
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      const m = (err as Error).message;
      process.stderr.write(`${m === INIT_USAGE ? m : `trellis-agent init-capture: ${m}\n${INIT_USAGE}`}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "init-capture") initStep(process.argv.slice(3));
  let opts: ReturnType<typeof parseAgentArgs>;
  try {
    opts = parseAgentArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${(err as Error).message === USAGE ? USAGE : `trellis-agent: ${(err as Error).message}\n${USAGE}`}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ service: opts.service, instanceId: opts.instanceId }, opts.logLevel);
  process.on("uncaughtException", (err) => {
    log.error("uncaught exception", { error: err.message, stack: err.stack });
    process.exit(1);
  });
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent(opts, log);
  } catch (err) {
    log.error("agent failed to start", { error: (err as Error).message });
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("agent stopping", { signal });
    const hard = setTimeout(() => process.exit(0), 1_800);
    hard.unref();
    agent.stop(1_000).then(
      () => {
        log.info("agent stopped");
        process.exit(0);
      },
      () => process.exit(0),
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main();

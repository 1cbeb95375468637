// `npm start` (node --import tsx scripts/start.mts): build what is not built (turbo caches), start the console, wait for it, start the demo shop.
// Ctrl-C / SIGTERM stops every child (each a process group from @trellis/testkit) within ~3 s and exits 0.
// If a child dies on its own, says why, stops the rest and exits non-zero.
//
// Environment: PORT (console, default 3000; 0 = OS-chosen), HOST (127.0.0.1), TRELLIS_DATA_DIR (default <repo>/data),
// SHOP_RPS (load generator rate, default 40), TRELLIS_JOIN_TOKEN (optional; otherwise the console's <data>/join-token),
// TRELLIS_ADMIN_PASSWORD (the first admin's password; otherwise generated at first start and shown here once),
// TRELLIS_SEED_FILE (initial traffic policies for a fresh data dir; default examples/shop/mesh-seed.json with the shop).
// Flags: --no-shop (console only), --no-build (skip the turbo build), --capture (the shop in capture mode: each
// instance in a network namespace of its own, apps calling each other by name with no proxy; Linux + root only —
// elsewhere it says why and stops before starting anything).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeExit, type Exit, killGroupOf, ProcessGroup, type ProcessGroupOptions } from "@trellis/testkit/process";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
for (const a of args) {
  if (!["--no-shop", "--no-build", "--capture"].includes(a)) {
    console.error(`unknown option ${a} (known: --no-shop, --no-build, --capture)`);
    process.exit(2);
  }
}
const withShop = !args.includes("--no-shop");
const build = !args.includes("--no-build");
const capture = args.includes("--capture");
const port = process.env.PORT ?? "3000";
const host = process.env.HOST ?? "127.0.0.1";
const dataDir = resolve(root, process.env.TRELLIS_DATA_DIR ?? "data");
const rps = process.env.SHOP_RPS ?? "40";
const quietEnv = { NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1", CHECKPOINT_DISABLE: "1" };
const STOP_GRACE_MS = 2600;

const children = new Map<string, ProcessGroup>();
let stopping = false;

function say(msg: string): void {
  process.stdout.write(`[start] ${msg}\n`);
}

/**
 * Starts a child as leader of its own process group (so stopping it stops everything it started). If it dies on its
 * own (and was not expected to exit), says why, stops the rest and exits non-zero.
 */
function start(name: string, command: string, argv: string[], opts: ProcessGroupOptions & { expectExit?: boolean } = {}): ProcessGroup {
  const child = new ProcessGroup(name, command, argv, { cwd: root, keepLines: 20, ...opts, env: { ...quietEnv, ...opts.env } });
  children.set(name, child);
  void child.exited.then((e: Exit) => {
    if (stopping || opts.expectExit) return;
    process.stderr.write(
      `\n[start] ${name} exited unexpectedly (${describeExit(e)}). Last output:\n${child
        .lastLines(20)
        .map((l) => `  ${l}`)
        .join("\n")}\n`,
    );
    void shutdown(`${name} died`, e.code || 1);
  });
  return child;
}

/** Last resort for shop processes whose launcher could not clean up (it was SIGKILLed): their pids are in ports.json. */
function killStrayShopProcesses(): void {
  const file = join(dataDir, "shop", "ports.json");
  if (!existsSync(file)) return;
  try {
    const ports = JSON.parse(readFileSync(file, "utf8"));
    for (const inst of ports.instances ?? []) for (const pid of Object.values(inst.pids ?? {})) if (Number.isInteger(pid)) killGroupOf(pid as number);
    if (Number.isInteger(ports.loadgen?.pid)) killGroupOf(ports.loadgen.pid);
  } catch {
    /* unreadable: nothing to do */
  }
}

async function shutdown(reason: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`stopping (${reason})`);
  const running = [...children.values()].filter((c) => c.alive);
  // The shop first (its agents then stop reporting), the console with it; both get SIGTERM at once to stay in budget.
  await Promise.all(
    running.map(async (c) => {
      const e = await c.stop("SIGTERM", STOP_GRACE_MS);
      if (e.signal === "SIGKILL") process.stderr.write(`[start] ${c.name} did not stop in time, killed it\n`);
    }),
  );
  if (withShop) killStrayShopProcesses();
  say("stopped");
  process.exit(code);
}

let interrupted = 0;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    if (++interrupted > 1 && stopping) {
      for (const c of children.values()) c.signal("SIGKILL");
      process.exit(130);
    }
    void shutdown(sig, 0);
  });
}

// Under `npm start`, a SIGTERM sent to npm alone kills npm without passing it on: notice that our parent is gone.
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("npm exited", 0);
  }, 300).unref();
}

function isErrorLine(line: string): boolean {
  return /"level":"(warn|error|fatal)"/.test(line);
}

let adminNotice = "";

async function main() {
  mkdirSync(dataDir, { recursive: true });

  // 1. Build (turbo replays its cache when nothing changed).
  if (build) {
    say("building (turbo run build)…");
    const turbo = join(root, "node_modules", ".bin", "turbo");
    const [cmd, argv] = existsSync(turbo) ? [turbo, []] : ["npx", ["turbo"]];
    const b = start("build", cmd, [...argv, "run", "build", "--output-logs=errors-only"], {
      expectExit: true,
      onLine: (line) => process.stdout.write(`  ${line}\n`),
    });
    const exit = await b.exited;
    children.delete("build");
    if (stopping) return;
    if (exit.code !== 0) {
      process.stderr.write(`[start] build failed (${describeExit(exit)})\n`);
      process.exit(1);
    }
  }

  // Capture mode needs namespaces and iptables: ask the shop launcher first, and stop here (exit 2) if it cannot.
  if (capture && withShop) {
    const why: string[] = [];
    const check = new ProcessGroup("capture check", process.execPath, [join(root, "examples/shop/dist/launch.js"), "--capture", "--check"], {
      onLine: (line) => why.push(line),
    });
    const exit = await check.finished;
    if (exit.code !== 0) {
      process.stderr.write(`[start] ${why.join("\n") || `capture check failed (${describeExit(exit)})`}\n`);
      process.exit(2);
    }
  }

  // 2. The console.
  say(`starting the console (data: ${dataDir})`);
  const consoleChild = start("console", process.execPath, ["--import", "tsx", join(root, "apps/web/server/main.ts")], {
    env: {
      PORT: port,
      HOST: host,
      TRELLIS_DATA_DIR: dataDir,
      NODE_ENV: process.env.NODE_ENV ?? "production",
      // Capture mode: the agents reach the console across the pods' bridge, so the join token travels over TLS.
      ...(capture ? { TRELLIS_TLS: "1" } : {}),
      // The demo's initial policies (payments canary 90/10), applied at the console's first start only.
      ...(withShop ? { TRELLIS_SEED_FILE: process.env.TRELLIS_SEED_FILE ?? "examples/shop/mesh-seed.json" } : {}),
    },
    logFile: join(dataDir, "console.log"),
    secret: (line: string) => {
      const m = /^TRELLIS FIRST ADMIN: username (\S+) password (\S+)$/.exec(line);
      if (!m) return false;
      adminNotice = `  First sign-in: username ${m[1]}, password ${m[2]}\n  (generated at first start and shown only this once: write it down; set TRELLIS_ADMIN_PASSWORD to choose it)`;
      process.stdout.write(
        `\n[start] ==================== FIRST ADMIN CREATED ====================\n${adminNotice}\n[start] ===============================================================\n\n`,
      );
      return true;
    },
    onLine: (line, stream) => {
      if (stream === "stderr" || isErrorLine(line)) process.stderr.write(`  console: ${line}\n`);
    },
  });
  const listening = await consoleChild.waitFor((o) => o.msg === "console listening", 180_000, '"console listening"');
  const url = String(listening.url ?? `http://${host}:${port}`);
  say(`console listening at ${url}`);
  if (!withShop) {
    say(`Trellis console: ${url}   (no shop; Ctrl-C stops)`);
    return;
  }

  // 3. The shop: every service with its own agent, plus the load generator.
  const wsUrl = `${url.replace(/^http/, "ws").replace(/\/$/, "")}/ws/agents`;
  const tokenFile = join(dataDir, "join-token");
  const shopArgs = [
    join(root, "examples/shop/dist/launch.js"),
    "--console",
    wsUrl,
    "--state-root",
    join(dataDir, "shop"),
    "--rps",
    rps,
    "--exit-with-parent",
  ];
  if (capture) shopArgs.push("--capture");
  // A TLS console (beyond loopback, or capture mode): its agents verify it against the console's own CA.
  if (url.startsWith("https://")) shopArgs.push("--console-ca", join(dataDir, "ca", "ca.crt"));
  // A TRELLIS_JOIN_TOKEN in the environment is what the console uses, and the agents inherit it; otherwise the
  // console keeps its token in <data>/join-token.
  if (!process.env.TRELLIS_JOIN_TOKEN) {
    if (!existsSync(tokenFile)) throw new Error(`no join token: ${tokenFile} is missing and TRELLIS_JOIN_TOKEN is not set`);
    shopArgs.push("--token-file", tokenFile);
  }
  say("starting the demo shop…");
  const shop = start("shop", process.execPath, shopArgs, {
    onLine: (line, stream) => (stream === "stderr" ? process.stderr : process.stdout).write(`${line}\n`),
  });
  await shop.waitFor((o) => o.msg === "shop ready", 120_000, '"shop ready"');
  process.stdout.write(
    `\n  Trellis console: ${url}   (sign in; users, join tokens and API tokens under Settings)\n${adminNotice ? `${adminNotice}\n` : ""}  (the shop's ports table is above and in ${join(dataDir, "shop", "ports.json")}; Ctrl-C stops everything)\n\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`[start] ${err.message}\n`);
  void shutdown("start failed", 1);
});

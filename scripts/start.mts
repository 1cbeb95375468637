#!/usr/bin/env node
// `npm start`: build what is not built (turbo caches), start the console, wait for it, start the demo shop.
// Ctrl-C / SIGTERM stops every child (each runs in its own process group) within ~3 s and exits 0.
// If a child dies on its own, says why, stops the rest and exits non-zero.
//
// Environment: PORT (console, default 3000; 0 = OS-chosen), HOST (127.0.0.1), TRELLIS_DATA_DIR (default <repo>/data),
// SHOP_RPS (load generator rate, default 40), TRELLIS_JOIN_TOKEN (optional; otherwise the console's <data>/join-token),
// TRELLIS_ADMIN_PASSWORD (the first admin's password; otherwise generated at first start and shown here once),
// TRELLIS_SEED_FILE (initial traffic policies for a fresh data dir; default examples/shop/mesh-seed.json with the shop).
// Flags: --no-shop (console only), --no-build (skip the turbo build).
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
for (const a of args) {
  if (!["--no-shop", "--no-build"].includes(a)) {
    console.error(`unknown option ${a} (known: --no-shop, --no-build)`);
    process.exit(2);
  }
}
const withShop = !args.includes("--no-shop");
const build = !args.includes("--no-build");
const port = process.env.PORT ?? "3000";
const host = process.env.HOST ?? "127.0.0.1";
const dataDir = resolve(root, process.env.TRELLIS_DATA_DIR ?? "data");
const rps = process.env.SHOP_RPS ?? "40";
const quietEnv = { NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1", CHECKPOINT_DISABLE: "1" };
const STOP_GRACE_MS = 2600;

/** @type {Map<string, {name: string, proc: import("node:child_process").ChildProcess, tail: string[], exited: Promise<void>, done: boolean}>} */
const children = new Map();
let stopping = false;

function say(msg) {
  process.stdout.write(`[start] ${msg}\n`);
}

/** Spawns a child as leader of its own process group, so stopping it stops everything it started. */
function start(name, command, argv, opts = {}) {
  const proc = spawn(command, argv, {
    cwd: root,
    env: { ...process.env, ...quietEnv, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const child = { name, proc, tail: [], watchers: new Set(), done: false, exited: undefined };
  child.exited = new Promise((res) => {
    proc.on("exit", (code, signal) => {
      child.done = true;
      res();
      if (!stopping && !opts.expectExit) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        process.stderr.write(`\n[start] ${name} exited unexpectedly (${why}). Last output:\n${child.tail.map((l) => `  ${l}`).join("\n")}\n`);
        void shutdown(`${name} died`, code || 1);
      }
    });
    proc.on("error", (err) => {
      child.tail.push(`spawn error: ${err.message}`);
      if (!child.done) {
        child.done = true;
        res();
        if (!stopping) void shutdown(`${name} could not start: ${err.message}`, 1);
      }
    });
  });
  const log = opts.logFile ? createWriteStream(opts.logFile, { flags: "a" }) : undefined;
  const onLine = (line, isErr) => {
    // A secret line (the first admin's generated password) goes to the person at the terminal only: no log, no tail.
    if (opts.secret?.(line)) return;
    child.tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
    if (child.tail.length > 20) child.tail.shift();
    log?.write(`${line}\n`);
    opts.onLine?.(line, isErr);
    if (!isErr) for (const w of child.watchers) w(line);
  };
  createInterface({ input: proc.stdout }).on("line", (l) => onLine(l, false));
  createInterface({ input: proc.stderr }).on("line", (l) => onLine(l, true));
  children.set(name, child);
  return child;
}

function killGroup(child, signal) {
  if (child.done || !child.proc.pid) return;
  try {
    process.kill(-child.proc.pid, signal);
  } catch {
    try {
      child.proc.kill(signal);
    } catch {
      /* gone */
    }
  }
}

/** Last resort for shop processes whose launcher could not clean up (it was SIGKILLed): their pids are in ports.json. */
function killStrayShopProcesses() {
  const file = join(dataDir, "shop", "ports.json");
  if (!existsSync(file)) return;
  try {
    const ports = JSON.parse(readFileSync(file, "utf8"));
    for (const inst of ports.instances ?? [])
      for (const pid of Object.values(inst.pids ?? {}))
        if (Number.isInteger(pid))
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            /* gone */
          }
    if (Number.isInteger(ports.loadgen?.pid))
      try {
        process.kill(-ports.loadgen.pid, "SIGKILL");
      } catch {
        /* gone */
      }
  } catch {
    /* unreadable: nothing to do */
  }
}

async function shutdown(reason, code = 0) {
  if (stopping) return;
  stopping = true;
  say(`stopping (${reason})`);
  const running = [...children.values()].filter((c) => !c.done);
  // The shop first (its agents then stop reporting), the console with it; both get SIGTERM at once to stay in budget.
  for (const c of running) killGroup(c, "SIGTERM");
  const deadline = new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref());
  await Promise.race([Promise.all(running.map((c) => c.exited)), deadline]);
  for (const c of running) {
    if (!c.done) process.stderr.write(`[start] ${c.name} did not stop in time, killing it\n`);
    killGroup(c, "SIGKILL"); // also reaps anything left in its group
  }
  if (withShop) killStrayShopProcesses();
  say("stopped");
  process.exit(code);
}

let interrupted = 0;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    if (++interrupted > 1 && stopping) {
      for (const c of children.values()) killGroup(c, "SIGKILL");
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

/** Resolves with the first stdout JSON line `match` accepts; rejects if the child exits first or on timeout. */
function waitForLine(child, match, timeoutMs, what) {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${child.name}: no ${what} after ${timeoutMs / 1000} s`)), timeoutMs);
    const watcher = (line) => {
      if (!line.startsWith("{")) return;
      try {
        const obj = JSON.parse(line);
        if (match(obj)) {
          clearTimeout(timer);
          child.watchers.delete(watcher);
          res(obj);
        }
      } catch {
        /* not JSON */
      }
    };
    child.watchers.add(watcher);
    void child.exited.then(() => {
      clearTimeout(timer);
      rej(new Error(`${child.name} exited before ${what}`));
    });
  });
}

function isErrorLine(line) {
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
    const exit = await new Promise((r) => b.proc.on("exit", (code, signal) => r({ code, signal })));
    children.delete("build");
    if (stopping) return;
    if (exit.code !== 0) {
      process.stderr.write(`[start] build failed (${exit.signal ?? `exit code ${exit.code}`})\n`);
      process.exit(1);
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
      // The demo's initial policies (payments canary 90/10), applied at the console's first start only.
      ...(withShop ? { TRELLIS_SEED_FILE: process.env.TRELLIS_SEED_FILE ?? "examples/shop/mesh-seed.json" } : {}),
    },
    logFile: join(dataDir, "console.log"),
    secret: (line) => {
      const m = /^TRELLIS FIRST ADMIN: username (\S+) password (\S+)$/.exec(line);
      if (!m) return false;
      adminNotice = `  First sign-in: username ${m[1]}, password ${m[2]}\n  (generated at first start and shown only this once: write it down; set TRELLIS_ADMIN_PASSWORD to choose it)`;
      process.stdout.write(
        `\n[start] ==================== FIRST ADMIN CREATED ====================\n${adminNotice}\n[start] ===============================================================\n\n`,
      );
      return true;
    },
    onLine: (line, isErr) => {
      if (isErr || isErrorLine(line)) process.stderr.write(`  console: ${line}\n`);
    },
  });
  const listening = await waitForLine(consoleChild, (o) => o.msg === "console listening", 180_000, '"console listening"');
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
  // A TRELLIS_JOIN_TOKEN in the environment is what the console uses, and the agents inherit it; otherwise the
  // console keeps its token in <data>/join-token.
  if (!process.env.TRELLIS_JOIN_TOKEN) {
    if (!existsSync(tokenFile)) throw new Error(`no join token: ${tokenFile} is missing and TRELLIS_JOIN_TOKEN is not set`);
    shopArgs.push("--token-file", tokenFile);
  }
  say("starting the demo shop…");
  const shop = start("shop", process.execPath, shopArgs, {
    onLine: (line, isErr) => (isErr ? process.stderr : process.stdout).write(`${line}\n`),
  });
  await waitForLine(shop, (o) => o.msg === "shop ready", 120_000, '"shop ready"');
  process.stdout.write(
    `\n  Trellis console: ${url}   (sign in; users and join tokens under Settings)\n${adminNotice ? `${adminNotice}\n` : ""}  (the shop's ports table is above and in ${join(dataDir, "shop", "ports.json")}; Ctrl-C stops everything)\n\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`[start] ${err.message}\n`);
  void shutdown("start failed", 1);
});

/**
 * Process groups: spawn a child as the leader of its own process group (so stopping it stops everything it started),
 * capture its output lines, wait for a JSON log line (an event, never a sleep: bounded, and failing at once with the
 * captured output if the process exits first), and stop it (SIGTERM to the group, SIGKILL after a grace).
 *
 * Node builtins only: `npm start` and the shop's launcher (bundled by esbuild) use this module as it is.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type LogLine = Record<string, unknown> & { msg?: string };

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: string;
}

export interface ProcessGroupOptions {
  /** Merged over `process.env`. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A writable stdin for `send()` (default: ignored). */
  stdin?: boolean;
  /** Every kept line is appended to this file. */
  logFile?: string;
  /** How many output lines (and parsed JSON lines) are kept (default 5,000). */
  keepLines?: number;
  /** Every kept line, as it comes. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** A line this accepts is neither kept, logged nor passed to `onLine` (e.g. a generated password). */
  secret?: (line: string) => boolean;
}

const running = new Set<ProcessGroup>();
const tempDirs: string[] = [];

export class ProcessGroup {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  /** Output lines of both streams, oldest first (at most `keepLines`). */
  readonly output: string[] = [];
  /** The JSON lines of both streams, parsed (at most `keepLines`). */
  readonly lines: LogLine[] = [];
  readonly exited: Promise<Exit>;
  /** Resolves after the exit once its output was read (or 200 ms later, if something it started holds the pipes open). */
  readonly finished: Promise<Exit>;
  exit: Exit | undefined;
  private waiters = new Set<(l: LogLine) => void>();
  private readonly keep: number;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    opts: ProcessGroupOptions = {},
  ) {
    this.keep = opts.keepLines ?? 5_000;
    this.child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child.stdin?.on("error", () => {}); // a dead child's stdin: nothing to do
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exit ??= { code, signal };
        resolve(this.exit);
      });
      this.child.once("error", (err) => {
        this.remember(`spawn error: ${err.message}`);
        this.exit ??= { code: null, signal: null, error: err.message };
        resolve(this.exit);
      });
    });
    void this.exited.then(() => running.delete(this));
    const closed = new Promise<void>((resolve) => this.child.once("close", () => resolve()));
    this.finished = this.exited.then(async (e) => {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 200))]);
      return e;
    });
    const log = opts.logFile ? createWriteStream(opts.logFile, { flags: "a" }) : undefined;
    if (log) void this.finished.then(() => log.end());
    const onLine = (text: string, stream: "stdout" | "stderr") => {
      if (opts.secret?.(text)) return;
      this.remember(text);
      if (log && !log.writableEnded) log.write(`${text}\n`);
      opts.onLine?.(text, stream);
      if (!text.startsWith("{")) return;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return; // not JSON: just output
      }
      this.lines.push(line);
      if (this.lines.length > this.keep) this.lines.shift();
      for (const w of this.waiters) w(line);
    };
    createInterface({ input: this.child.stdout! }).on("line", (l) => onLine(l, "stdout"));
    createInterface({ input: this.child.stderr! }).on("line", (l) => onLine(l, "stderr"));
  }

  private remember(text: string): void {
    this.output.push(text);
    if (this.output.length > this.keep) this.output.shift();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The last `n` output lines (long ones cut), to say why a process died. */
  lastLines(n = 5): string[] {
    return this.output.slice(-n).map((l) => (l.length > 500 ? `${l.slice(0, 500)}…` : l));
  }

  /**
   * Resolves with the first JSON log line (already seen or to come) that `match` accepts. Rejects after `timeoutMs`,
   * or at once if the process exits first, with its last output in the message.
   */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 20_000, what = "log line"): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, line?: LogLine) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(watcher);
        if (err) reject(err);
        else resolve(line!);
      };
      const fail = (why: string) => new Error(`${this.name} ${why} waiting for ${what}\n--- last output ---\n${this.lastLines(40).join("\n")}`);
      const watcher = (l: LogLine) => {
        if (match(l)) finish(null, l);
      };
      const timer = setTimeout(() => finish(fail(`timed out after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.add(watcher);
      // Lines printed just before exiting may be read after the exit is reported: fail once they were read.
      void this.finished.then((e) => finish(fail(`exited (${describeExit(e)})`)));
    });
  }

  /** Writes one line to the child's stdin (`stdin: true`), if it is still running. */
  send(line: string): void {
    if (this.alive && this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }

  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void {
    if (!this.pid || !this.alive) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }

  /**
   * `signal` to the group, SIGKILL after `graceMs`; resolves once the leader exited, with how long that took. Anything
   * left in the group is then killed too.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000): Promise<Exit & { ms: number }> {
    const t0 = Date.now();
    if (!this.alive) return { ...this.exit!, ms: 0 };
    this.signal(signal);
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    if (this.pid) {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        /* the group is empty */
      }
    }
    return { ...e, ms: Date.now() - t0 };
  }
}

/** A node script as a process group. */
export function spawnNode(name: string, args: string[], opts: ProcessGroupOptions = {}): ProcessGroup {
  return new ProcessGroup(name, process.execPath, args, opts);
}

export function describeExit(e: Exit): string {
  if (e.error) return `spawn error: ${e.error}`;
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** Every process group still running. */
export function runningGroups(): ProcessGroup[] {
  return [...running];
}

/** A fresh temp directory, removed by `stopAll()`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `trellis-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Stops every process group still running (in parallel) and removes every `tempDir()`. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...running].map((p) => p.stop("SIGTERM", graceMs)));
  // Retries: a group killed a moment ago may still be writing into its directory (ENOTEMPTY).
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** Kills the group of a pid recorded elsewhere (a ports file), if it is still there. */
export function killGroupOf(pid: number, sig: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A program that exits (or crashes out) leaves none of its groups behind.
process.on("exit", () => {
  for (const p of running) if (p.pid) killGroupOf(p.pid, "SIGKILL");
});

/**
 * Runs a command to completion as a process group, bounded: resolves with its stdout; rejects on a non-zero exit or
 * once `timeoutMs` passed (the group is killed), with the end of its stderr.
 */
export async function run(
  command: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const p = new ProcessGroup(command, command, args, {
    env: opts.env,
    cwd: opts.cwd,
    keepLines: 100,
    onLine: (line, stream) => (stream === "stdout" ? stdout : stderr).push(line),
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.signal("SIGKILL");
  }, opts.timeoutMs ?? 120_000);
  const e = await p.finished;
  clearTimeout(timer);
  if (p.pid) killGroupOf(p.pid); // whatever it left in its group
  if (e.code === 0 && !timedOut) return stdout.map((l) => `${l}\n`).join("");
  const why = timedOut ? `timed out after ${opts.timeoutMs ?? 120_000} ms` : `exited ${e.code ?? e.signal ?? e.error}`;
  throw new Error(`${command} ${args.join(" ")} ${why}: ${stderr.join("\n").slice(-800)}`);
}

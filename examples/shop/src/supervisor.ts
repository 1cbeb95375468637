/**
 * Child processes for the launcher: each child is spawned detached, i.e. leader of its own process group, so that
 * stopping it stops everything it started (`kill(-pid)`), and a terminal's Ctrl-C reaches only the launcher, which
 * then stops children in order. Output goes to a log file; the last lines are kept to say why a child died.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";

export interface ChildOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  /** Resolves `ready` with the first stdout JSON line this accepts. */
  readyWhen?: (line: Record<string, unknown>) => boolean;
  readyTimeoutMs?: number;
  /** Every stdout line (after logging), e.g. to echo summaries. */
  onLine?: (line: string) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<Record<string, unknown>>;
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  private readonly tail: string[] = [];
  exit: Exit | undefined;

  constructor(readonly opts: ChildOptions) {
    const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: "a" }) : undefined;
    this.proc = spawn(opts.command, opts.args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.proc.stdin?.on("error", () => {}); // a dead child's stdin: nothing to do
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on("error", (err) => {
        this.remember(`spawn error: ${err.message}`);
        this.exit ??= { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      let done = false;
      const timer = opts.readyWhen
        ? setTimeout(() => {
            if (done) return;
            done = true;
            reject(new Error(`${opts.name} not ready after ${opts.readyTimeoutMs ?? 15_000} ms`));
          }, opts.readyTimeoutMs ?? 15_000)
        : undefined;
      if (!opts.readyWhen) {
        done = true;
        resolve({});
      }
      void this.exited.then((e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(new Error(`${opts.name} exited before it was ready (${describeExit(e)})`));
      });
      const out = readline.createInterface({ input: this.proc.stdout! });
      out.on("line", (line) => {
        log?.write(`${line}\n`);
        this.remember(line);
        opts.onLine?.(line);
        if (done || !opts.readyWhen || !line.startsWith("{")) return;
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          if (opts.readyWhen(obj)) {
            done = true;
            clearTimeout(timer);
            resolve(obj);
          }
        } catch {
          /* not JSON: just a log line */
        }
      });
    });
    this.ready.catch(() => {});
    const err = readline.createInterface({ input: this.proc.stderr! });
    err.on("line", (line) => {
      log?.write(`${line}\n`);
      this.remember(line);
    });
    void this.exited.then(() => setTimeout(() => log?.end(), 100));
  }

  private remember(line: string): void {
    this.tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.tail.length > 15) this.tail.shift();
  }

  lastLines(n = 5): string[] {
    return this.tail.slice(-n);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  send(line: string): void {
    if (this.alive && this.proc.stdin?.writable) this.proc.stdin.write(`${line}\n`);
  }

  /** Signals the child's whole process group. */
  signal(sig: NodeJS.Signals): void {
    if (!this.pid || !this.alive) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        this.proc.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  async stop(graceMs = 2000): Promise<Exit> {
    if (!this.alive) return this.exit!;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    // The leader is gone; make sure nothing it started lingers in its group.
    if (this.pid) {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        /* group empty */
      }
    }
    return e;
  }
}

export function describeExit(e: Exit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** Restart delays: 0.5 s doubling to 10 s; a child that ran for 30 s starts over from 0.5 s. */
export class Backoff {
  private failures = 0;
  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 10_000,
    private readonly healthyAfterMs = 30_000,
  ) {}

  next(ranForMs: number): number {
    if (ranForMs >= this.healthyAfterMs) this.failures = 0;
    const d = Math.min(this.maxMs, this.baseMs * 2 ** this.failures);
    this.failures++;
    return d;
  }
}

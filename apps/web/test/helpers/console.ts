/** Starts the REAL console process (node --import tsx apps/web/server/main.ts) for integration tests. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface RunningConsole {
  url: string;
  wsUrl: string;
  proc: ChildProcess;
  /** Every stdout/stderr line so far. */
  lines: string[];
  /** SIGKILLs after `graceMs`: a console slower than that to shut down exits with a null code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; ms: number }>;
}

export async function startConsole(opts: {
  dataDir: string;
  token: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}): Promise<RunningConsole> {
  const proc = spawn(process.execPath, ["--import", "tsx", "apps/web/server/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: "0",
      HOST: "127.0.0.1",
      TRELLIS_DATA_DIR: opts.dataDir,
      TRELLIS_JOIN_TOKEN: opts.token,
      TRELLIS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DATABASE_URL: "",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let exited = false;
  proc.on("exit", () => {
    exited = true;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not start:\n${lines.join("\n")}`)), opts.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        lines.push(line);
        try {
          const obj = JSON.parse(line) as { msg?: string; url?: string };
          if (obj.msg === "console listening" && obj.url) {
            clearTimeout(timer);
            resolve(obj.url);
          }
        } catch {
          /* not JSON */
        }
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`console exited with ${code}:\n${lines.join("\n")}`));
    });
  });
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    proc,
    lines,
    stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5_000) {
      const t0 = Date.now();
      if (exited) return Promise.resolve({ code: proc.exitCode, ms: 0 });
      return new Promise((resolve) => {
        const kill = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        proc.once("exit", (code) => {
          clearTimeout(kill);
          resolve({ code, ms: Date.now() - t0 });
        });
        proc.kill(signal);
      });
    },
  };
}

export const ADMIN_PASSWORD = "web-test-admin-password";
const cookies = new Map<string, Promise<string>>();

/** The admin's session cookie for a console (signed in once per URL). */
export function adminCookie(baseUrl: string): Promise<string> {
  let c = cookies.get(baseUrl);
  if (!c) {
    c = (async () => {
      const res = await fetch(`${baseUrl}/api/auth/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
      });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
      return (res.headers.get("set-cookie") ?? "").split(";")[0];
    })();
    cookies.set(baseUrl, c);
  }
  return c;
}

/** GET a tRPC query with plain fetch (no transformer) as the admin: returns `result.data`. */
export async function trpcQuery<T = unknown>(baseUrl: string, path: string, input?: unknown): Promise<T> {
  const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await fetch(`${baseUrl}/api/trpc/${path}${qs}`, { headers: { cookie: await adminCookie(baseUrl) } });
  const body = (await res.json()) as { result?: { data: T }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`tRPC ${path} failed: ${res.status} ${JSON.stringify(body.error ?? body)}`);
  return body.result.data;
}

/** Polls `fn` until it returns a truthy value or the deadline passes (bounded; no fixed sleeps). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

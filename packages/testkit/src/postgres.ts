/**
 * A real, throwaway PostgreSQL server (the distribution's `postgresql` package) for tests, the bench and
 * scripts/derive-postgres-schema.mts: a cluster in a temp directory, trust authentication on 127.0.0.1 only, a free
 * port, one database per `createDatabase()`. `stop()` stops it and removes the directory; a process that exits without
 * calling it stops it too (the server is a daemon outside our process groups).
 *
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user. Debian keeps the programs
 * off the PATH, under /usr/lib/postgresql/<major>/bin.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./process.ts";
import { freePort } from "./wait.ts";

export interface PostgresServer {
  port: number;
  /** The cluster's temp directory (data, sockets, server.log), removed by `stop()`. */
  dir: string;
  /** The superuser every database is reached as (trust authentication, no password). */
  user: string;
  /** postgres://<user>@127.0.0.1:<port>/<name> */
  urlOf(name: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (immediate) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<major>/bin that has initdb, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const majors = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(base, majors[0], "bin") : null;
}

const live = new Set<() => void>();
process.on("exit", () => {
  for (const stopNow of live) stopNow();
});

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  if (!Number.isInteger(uid) || uid <= 0) throw new Error("running as root needs the `postgres` user (apt-get install postgresql)");
  return { uid, gid: id("-g") };
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export async function startPostgres(opts: { user?: string } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed: apt-get install -y postgresql (npm test does it)");
  const user = opts.user ?? "trellis";
  const dir = mkdtempSync(join(tmpdir(), "trellis-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  // As root, every server-side program runs as `postgres` (su with a quoted command line); otherwise as ourselves.
  const asOwner = (prog: string, args: string[], timeoutMs = 60_000) =>
    asRoot
      ? run("su", ["postgres", "-s", "/bin/sh", "-c", [join(bin, prog), ...args].map(quote).join(" ")], { timeoutMs })
      : run(join(bin, prog), args, { timeoutMs });
  const stopNow = () => {
    const args = ["stop", "-D", data, "-m", "immediate"];
    if (existsSync(join(data, "postmaster.pid"))) {
      if (asRoot) spawnSync("su", ["postgres", "-s", "/bin/sh", "-c", [join(bin, "pg_ctl"), ...args].map(quote).join(" ")], { stdio: "ignore" });
      else spawnSync(join(bin, "pg_ctl"), args, { stdio: "ignore" });
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    live.delete(stopNow);
  };
  live.add(stopNow);
  try {
    await asOwner("initdb", ["-D", data, "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8", "--locale=C"]);
    const port = await freePort();
    // Sockets in our own directory (not /var/run/postgresql); fsync off: a test cluster is thrown away anyway.
    const serverOpts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await asOwner("pg_ctl", ["start", "-D", data, "-w", "-t", "60", "-l", join(dir, "server.log"), "-o", serverOpts], 90_000);
    const urlOf = (name: string) => `postgres://${user}@127.0.0.1:${port}/${name}`;
    return {
      port,
      dir,
      user,
      urlOf,
      async createDatabase(name) {
        await run(join(bin, "createdb"), ["-h", "127.0.0.1", "-p", String(port), "-U", user, name], { timeoutMs: 30_000 });
        return urlOf(name);
      },
      async stop() {
        stopNow();
      },
    };
  } catch (err) {
    stopNow();
    throw err;
  }
}

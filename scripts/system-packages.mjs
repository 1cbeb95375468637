// System programs the tests and the bench run for real (chromium, promtool, nginx…) come from the distribution's
// packages. Missing ones are installed through apt-get when we may (root, or password-less sudo); otherwise we stop at
// once with the exact command to run, before any test starts, instead of failing deep in the run.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Debian keeps PostgreSQL's server programs (initdb, pg_ctl) off the PATH, in one directory per major version. */
function postgresBinDirs() {
  const base = "/usr/lib/postgresql";
  return existsSync(base) ? readdirSync(base).map((v) => join(base, v, "bin")) : [];
}

/** @param {string} bin @returns {string | null} the program's path on PATH (or the absolute path given) */
export function which(bin) {
  const dirs = bin.includes("/") ? [""] : (process.env.PATH ?? "").split(delimiter).concat("/usr/sbin", "/usr/bin", ...postgresBinDirs());
  for (const dir of dirs) {
    const path = dir ? join(dir, bin) : bin;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* next */
    }
  }
  return null;
}

/** @returns {string[] | null} the prefix that runs apt-get as root, or null when nothing may */
function asRoot() {
  if (!which("apt-get")) return null;
  if (process.getuid?.() === 0) return [];
  if (which("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0)
    return ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"];
  return null;
}

/**
 * Makes sure every program in `need` is there: `{ program: debianPackage }`. Installs what is missing, or exits the
 * process with the command to run. `why` names who needs them, for the message.
 * @param {Record<string, string>} need
 * @param {{ why: string, log?: (msg: string) => void }} opts
 */
export function ensureSystemPackages(need, { why, log = (msg) => console.log(msg) }) {
  const missing = [
    ...new Set(
      Object.entries(need)
        .filter(([bin]) => !which(bin))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  const prefix = asRoot();
  if (prefix === null) {
    console.error(`${why} needs ${missing.join(", ")} from the distribution's packages, and this user cannot install them.`);
    console.error(`Run as root, then try again:\n  ${command}`);
    process.exit(2);
  }
  log(`${why}: installing ${missing.join(" ")} from the distribution's packages`);
  const [cmd, ...pre] = [...prefix, "apt-get"];
  const run = (/** @type {string[]} */ args) =>
    execFileSync(cmd, [...pre, "-o", "DPkg::Lock::Timeout=300", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 900_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  try {
    run(["update", "-qq"]);
    run(["install", "-y", "-qq", "--no-install-recommends", ...missing]);
  } catch (err) {
    const e = /** @type {Error & { stdout?: Buffer, stderr?: Buffer }} */ (err);
    console.error(`${e.stdout ?? ""}${e.stderr ?? ""}installing ${missing.join(" ")} failed (${e.message}). Run as root:\n  ${command}`);
    process.exit(2);
  }
  const still = Object.keys(need).filter((bin) => !which(bin));
  if (still.length > 0) {
    console.error(`after installing ${missing.join(" ")}, still missing: ${still.join(", ")}. Run as root:\n  ${command}`);
    process.exit(2);
  }
}

/** Process helpers for the benchmarks: /proc sampling, fixed ports in 3400–3499, tool installs (bounded runs: `run` in @trellis/testkit). */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { cpuSecondsFromStat, memFromStatus } from "./stats.ts";

export const HZ = 100; // USER_HZ on Linux

/** CPU seconds (utime+stime) and RSS / peak RSS (VmHWM) of a live process. */
export function procStats(pid) {
  return {
    cpuS: cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, "utf8"), HZ),
    ...memFromStatus(readFileSync(`/proc/${pid}/status`, "utf8")),
  };
}

const taken = new Set();
/** A port in 3400–3499 that is free right now (tried by binding it), never handed out twice in one run. */
export async function freePort() {
  for (let p = 3400 + Math.floor(Math.random() * 100), n = 0; n < 100; n++, p = 3400 + ((p - 3400 + 1) % 100)) {
    if (taken.has(p)) continue;
    const ok = await new Promise((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(p, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (ok) {
      taken.add(p);
      return p;
    }
  }
  throw new Error("no free port in 3400-3499");
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (bounded). */
export async function waitPort(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export function which(bin) {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":").concat(["/usr/sbin", "/sbin"])) {
    if (existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  return null;
}

/** Installs the reference tools from Debian when missing: `apt-get update` once, then one install. */
export function ensureTools(log) {
  const need = { nginx: "nginx", wrk: "wrk", h2load: "nghttp2-client", openssl: "openssl" };
  const missing = [
    ...new Set(
      Object.entries(need)
        .filter(([bin]) => !which(bin))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  log(`installing from Debian: ${missing.join(" ")}`);
  const opts = { stdio: "inherit", timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } };
  execFileSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update", "-qq"], opts);
  execFileSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", ...missing], opts);
}

export function versionOf(cmd, args, re) {
  try {
    const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    return (re ? re.exec(out)?.[1] : out.trim().split("\n")[0]) ?? "?";
  } catch (e) {
    const text = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    return (re ? re.exec(text)?.[1] : text.trim().split("\n")[0]) ?? "?";
  }
}

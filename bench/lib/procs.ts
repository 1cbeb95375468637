/**
 * Process helpers for the benchmarks: /proc sampling, fixed ports in 3400–3499, tool versions (bounded runs: `run` in
 * @trellis/testkit; installing the tools: ensureSystemPackages in scripts/system-packages.mjs).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import type { ProcStats } from "./results.ts";
import { cpuSecondsFromStat, cpuTicksFromProcStat, memFromStatus } from "./stats.ts";

export const HZ = 100; // USER_HZ on Linux

/** CPU seconds (utime+stime) and RSS / peak RSS (VmHWM) of a live process. */
export function procStats(pid: number): ProcStats {
  return {
    cpuS: cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, "utf8"), HZ),
    ...memFromStatus(readFileSync(`/proc/${pid}/status`, "utf8")),
  };
}

/** The machine's CPU ticks so far, and how many of them the hypervisor stole (a noisy neighbour). */
export function machineCpuTicks(): { total: number; steal: number } {
  return cpuTicksFromProcStat(readFileSync("/proc/stat", "utf8"));
}

const taken = new Set<number>();
/** A port in 3400–3499 that is free right now (tried by binding it), never handed out twice in one run. */
export async function freePort(): Promise<number> {
  for (let p = 3400 + Math.floor(Math.random() * 100), n = 0; n < 100; n++, p = 3400 + ((p - 3400 + 1) % 100)) {
    if (taken.has(p)) continue;
    const ok = await new Promise<boolean>((resolve) => {
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
export async function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
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

/** The version a program prints (the first line, or `re`'s first group), "?" when it is missing or says nothing. */
export function versionOf(cmd: string, args: string[], re?: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    return (re ? re.exec(out)?.[1] : out.trim().split("\n")[0]) ?? "?";
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const text = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    return (re ? re.exec(text)?.[1] : text.trim().split("\n")[0]) ?? "?";
  }
}

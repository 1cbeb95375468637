/** Summarizes a V8 .cpuprofile (node --cpu-prof): top self-time functions and self time by area, idle excluded. */
import type { ProfileSummary } from "./results.ts";

/** The parts of a V8 .cpuprofile read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas?: number[];
}

export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "V8/native (program)";
    if (functionName === "(idle)") return "idle";
    return "native";
  }
  if (url.includes("/undici/")) return "undici";
  if (url.includes("/zod/")) return "zod";
  if (url.includes("/ws/")) return "ws";
  if (url.startsWith("node:")) return "node core (js)";
  if (url.includes("/apps/agent/") || url.includes("cli.js")) return "agent";
  return "other";
}

/**
 * `fromUs` (monotonic µs, the clock of process.hrtime on Linux, as the profile's own timestamps) skips samples taken
 * before it (start-up: module compilation, snapshot load) when it falls inside the profile.
 */
export function summarizeProfile(profile: CpuProfile, top = 15, fromUs: number | null = null): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  const skipBefore = fromUs !== null && fromUs > profile.startTime && fromUs < profile.endTime ? fromUs : Number.NEGATIVE_INFINITY;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t < skipBefore) continue;
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) throw new Error(`cpuprofile: sample of unknown node ${id}`);
    const cf = node.callFrame;
    const area = areaOf(cf.url, cf.functionName);
    if (area === "idle") {
      idle += us;
      continue;
    }
    busy += us;
    const file = cf.url ? cf.url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/apps\//, "apps/") : "";
    const key = `${cf.functionName || "(anonymous)"} ${file}${file ? `:${cf.lineNumber + 1}` : ""}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  return {
    sampledSeconds: (busy + idle) / 1e6,
    busySeconds: busy / 1e6,
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, pct: pct(us) })),
    top: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, pct: pct(us) })),
  };
}

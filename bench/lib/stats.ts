/**
 * Pure statistics for the benchmarks: percentiles, medians of repeated runs, the open-loop schedule and the
 * connection dispatcher that corrects coordinated omission. No I/O here: unit-tested in bench/test.
 */
import type { LatencySummary, MedianMinMax, ProcMem } from "./results.ts";

/** Nearest-rank percentile of an ascending-sorted array (q in 0..1). NaN for an empty array. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[n - 1];
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
}

/** Latency summary (same unit as the input) of an unsorted array-like of numbers. */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/** Median (mean of the middle two for an even count), min and max of repeated measurements; NaN/null skipped. */
export function medianMinMax(values: readonly (number | null | undefined)[]): MedianMinMax {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: null, min: null, max: null, n: 0 };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

/** Intended send time (ms after the start) of request i at a fixed rate spread evenly. */
export function intendedOffsetMs(i: number, ratePerSec: number): number {
  return (i * 1000) / ratePerSec;
}

/** How many requests are due `elapsedMs` after the start (request 0 is due at 0), capped at `total`. */
export function dueCount(elapsedMs: number, ratePerSec: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
}

/**
 * Open-loop dispatcher over a fixed set of keep-alive connections. A due request goes to an idle connection (FIFO,
 * so load spreads over all of them) or waits in a queue; it keeps its *intended* send time either way, so the
 * latency recorded for it (completion − intended) includes any time it waited behind a slow response. That is the
 * coordinated-omission correction: a stall is charged to every request that should have been sent during it,
 * not hidden by a closed loop that simply stops sending.
 */
export class Dispatcher<T = unknown> {
  /** Idle connections, longest idle first. */
  readonly idle: number[] = [];
  /** Due requests waiting for a connection, oldest first. */
  readonly queue: T[] = [];
  maxQueue = 0;

  constructor(connections: number) {
    for (let c = 0; c < connections; c++) this.idle.push(c);
  }
  /** A request (carrying its intended send time) is due: returns [conn, item] to send now, or null if it was queued. */
  due(item: T): [number, T] | null {
    const conn = this.idle.shift();
    if (conn !== undefined) return [conn, item];
    this.queue.push(item);
    if (this.queue.length > this.maxQueue) this.maxQueue = this.queue.length;
    return null;
  }
  /** Connection `conn` finished its response: returns the next [conn, item] to send on it, or null (idle). */
  done(conn: number): [number, T] | null {
    if (this.queue.length) return [conn, this.queue.shift() as T];
    this.idle.push(conn);
    return null;
  }
}

/** Latency in µs of a request completed at `doneMs` that was intended at `intendedMs` (CO-corrected). */
export function latencyUs(intendedMs: number, doneMs: number): number {
  return Math.max(0, Math.round((doneMs - intendedMs) * 1000));
}

/** CPU seconds from /proc/<pid>/stat text (utime + stime, clock ticks at `hz`). */
export function cpuSecondsFromStat(statText: string, hz = 100): number {
  const rest = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  // Fields after "(comm) ": state is index 0, utime is field 14 overall → index 11 here, stime index 12.
  return (Number(rest[11]) + Number(rest[12])) / hz;
}

/** Peak and current RSS in MB from /proc/<pid>/status text. */
export function memFromStatus(statusText: string): ProcMem {
  const kb = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(statusText);
    return m ? Number(m[1]) / 1024 : null;
  };
  return { hwmMb: kb("VmHWM"), rssMb: kb("VmRSS") };
}

/** Total and stolen CPU ticks of the machine from /proc/stat text (the `cpu` line: steal is its 8th value). */
export function cpuTicksFromProcStat(text: string): { total: number; steal: number } {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no cpu line");
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already counted in user.
  return { total: v.slice(0, 8).reduce((a, b) => a + b, 0), steal: v[7] ?? 0 };
}

/** Number formatting and verdicts shared by the BENCHMARKS.md renderers (render.ts, render-h2.ts). */
import type { MedianMinMax } from "./results.ts";

export const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || Number.isNaN(v) ? "—" : Number(v).toFixed(d));
/** "median (min–max)" of a medianMinMax record, scaled. */
export function mmm(r: MedianMinMax | null | undefined, d = 2, scale = 1): string {
  if (!r || r.median === null || r.median === undefined) return "—";
  if (r.n > 1) return `${f(r.median * scale, d)} (${f(r.min * scale, d)}–${f(r.max * scale, d)})`;
  return f(r.median * scale, d);
}

export function verdict(value: number | null | undefined, limit: number, cmp: "<=" | ">=" = "<="): boolean | null {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  return cmp === "<=" ? value <= limit : value >= limit;
}

export const mark = (m: boolean | null) => (m === true ? "**met**" : m === false ? "**not met**" : "not measured");

/**
 * Pure: slider arithmetic for a weighted split. Weights are integers that always sum to 100; moving one slider
 * rebalances the others in proportion to their current weights (largest remainder rounding, stable by index).
 */
export interface Weighted {
  version: string;
  weight: number;
}

export function rebalance(entries: Weighted[], index: number, value: number): Weighted[] {
  const n = entries.length;
  if (n === 0) return [];
  const v = Math.max(0, Math.min(100, Math.round(value)));
  if (n === 1) return [{ ...entries[0], weight: 100 }];
  const rest = 100 - v;
  const others = entries.map((e, i) => ({ i, w: i === index ? 0 : Math.max(0, e.weight) })).filter((o) => o.i !== index);
  const total = others.reduce((s, o) => s + o.w, 0);
  // Proportional shares (equal shares when the others are all zero).
  const exact = others.map((o) => ({ i: o.i, x: total > 0 ? (o.w / total) * rest : rest / others.length }));
  const floors = exact.map((e) => ({ i: e.i, w: Math.floor(e.x), frac: e.x - Math.floor(e.x) }));
  let left = rest - floors.reduce((s, f) => s + f.w, 0);
  const order = [...floors].sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const f of order) {
    if (left <= 0) break;
    f.w++;
    left--;
  }
  const byIndex = new Map(floors.map((f) => [f.i, f.w]));
  return entries.map((e, i) => ({ ...e, weight: i === index ? v : (byIndex.get(i) ?? 0) }));
}

/** A split over `versions` from an existing one: known weights kept, missing versions 0, normalised to 100. */
export function splitFor(versions: string[], split: Weighted[] | undefined): Weighted[] {
  if (versions.length === 0) return [];
  const current = new Map((split ?? []).map((e) => [e.version, e.weight]));
  const all = [...new Set([...versions, ...current.keys()])].sort();
  if (!split || split.length === 0) {
    // No split: traffic is balanced over all endpoints; show the first version holding everything... evenly is truer.
    const even = Math.floor(100 / all.length);
    return all.map((version, i) => ({ version, weight: i === 0 ? 100 - even * (all.length - 1) : even }));
  }
  return all.map((version) => ({ version, weight: current.get(version) ?? 0 }));
}

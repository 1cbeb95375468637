/**
 * What a canary's analysis reads: each version's totals of a service over a range of settled seconds, from the
 * console's live telemetry store (every caller's edges into that version, all status classes; ingress included).
 */
import { emptyHistogram, mergeInto } from "@trellis/protocol";
import type { TelemetryStore } from "../telemetry-store.ts";
import type { Totals } from "./analysis.ts";

export function versionTotals(
  store: TelemetryStore,
  service: string,
  versions: readonly string[],
  fromSec: number,
  toSec: number,
): Map<string, Totals> {
  const out = new Map<string, Totals>(versions.map((v) => [v, { requests: 0, errors: 0, latency: emptyHistogram() }]));
  if (toSec < fromSec) return out;
  for (const bucket of store.range(fromSec, toSec))
    for (const e of bucket.edges) {
      if (e.destination !== service) continue;
      const t = out.get(e.destinationVersion);
      if (!t) continue;
      t.requests += e.requests;
      t.errors += e.errors;
      mergeInto(t.latency, e.latency);
    }
  return out;
}

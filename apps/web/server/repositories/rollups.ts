/** Per-edge metric rollups (history for charts beyond the in-memory window). */
import type { Db } from "../db.ts";

export interface RollupRow {
  bucketStartMs: number;
  resolutionSeconds: number;
  source: string;
  sourceVersion: string;
  destination: string;
  destinationVersion: string;
  requests: number;
  errors: number;
  counts: number[];
  sumMs: number;
}

export class RollupRepository {
  constructor(private readonly db: Db) {}

  /** Inserts rows; a bucket already stored (same resolution, start and edge) is left as is. */
  async insertMany(rows: RollupRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    // SQLite's createMany has no skipDuplicates: insert one by one inside a transaction, ignoring existing keys.
    await this.db.$transaction(
      rows.map((r) => {
        const key = {
          resolutionSeconds: r.resolutionSeconds,
          bucketStart: new Date(r.bucketStartMs),
          source: r.source,
          sourceVersion: r.sourceVersion,
          destination: r.destination,
          destinationVersion: r.destinationVersion,
        };
        return this.db.metricRollup.upsert({
          where: { resolutionSeconds_bucketStart_source_sourceVersion_destination_destinationVersion: key },
          create: { ...key, requests: r.requests, errors: r.errors, histogram: JSON.stringify(r.counts), sumMs: r.sumMs },
          update: {},
        });
      }),
    );
    return rows.length;
  }

  async latestBucketMs(resolutionSeconds: number): Promise<number | null> {
    const r = await this.db.metricRollup.findFirst({ where: { resolutionSeconds }, orderBy: { bucketStart: "desc" }, select: { bucketStart: true } });
    return r ? r.bucketStart.getTime() : null;
  }

  /** Rows in [fromMs, toMs) for edges into `destination` and/or out of `source`. */
  async range(args: { fromMs: number; toMs: number; source?: string; destination?: string; resolutionSeconds?: number }): Promise<RollupRow[]> {
    const where: Record<string, unknown> = {
      resolutionSeconds: args.resolutionSeconds ?? 60,
      bucketStart: { gte: new Date(args.fromMs), lt: new Date(args.toMs) },
    };
    if (args.source) where.source = args.source;
    if (args.destination) where.destination = args.destination;
    const rows = await this.db.metricRollup.findMany({ where: where as never, orderBy: { bucketStart: "asc" }, take: 50_000 });
    return rows.map((r) => ({
      bucketStartMs: r.bucketStart.getTime(),
      resolutionSeconds: r.resolutionSeconds,
      source: r.source,
      sourceVersion: r.sourceVersion,
      destination: r.destination,
      destinationVersion: r.destinationVersion,
      requests: r.requests,
      errors: r.errors,
      counts: JSON.parse(r.histogram) as number[],
      sumMs: r.sumMs,
    }));
  }

  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    return (await this.db.metricRollup.deleteMany({ where: { bucketStart: { lt: new Date(now - maxAgeMs) } } })).count;
  }
}

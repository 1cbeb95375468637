import { z } from "zod";
import { MAX_RANGE_SECONDS, MIN_RANGE_SECONDS } from "../../shared/metric-series.ts";
import { seriesFor } from "../observability/rollups.ts";
import { actorOf, operatorProcedure, router, viewerProcedure } from "../trpc.ts";

const name = z.string().min(1).max(63);

export const telemetryPolicyInput = z.object({
  sampleRate: z.number().min(0).max(1),
  slowThresholdMs: z.number().int().min(1).max(600_000),
  slowThresholdMsByService: z.record(name, z.number().int().min(1).max(600_000)).default({}),
});

export const metricsSeriesInput = z
  .object({
    service: name.optional(),
    source: name.optional(),
    destination: name.optional(),
    rangeSeconds: z.number().int().min(MIN_RANGE_SECONDS).max(MAX_RANGE_SECONDS).default(900),
  })
  .refine((v) => v.service || (v.source && v.destination), { message: "give a service, or a source and a destination" });

export const telemetryRouter = router({
  /** The tracing policy agents get in their snapshots. */
  policy: viewerProcedure.input(z.object({}).optional()).query(({ ctx }) => ctx.repos.telemetryPolicy.get()),

  /** Changes the policy (a mesh-wide config revision of part `sampling`, with rollback) and pushes it to every agent. */
  setPolicy: operatorProcedure.input(telemetryPolicyInput).mutation(async ({ ctx, input }) => {
    const { doc, revision, configVersion } = await ctx.changes.setSampling(input, actorOf(ctx));
    return { ...doc, revision, configVersion };
  }),

  /** rps, p50/p95/p99 and error % over a range (5 min – 24 h) for a service's inbound traffic or one edge. */
  series: viewerProcedure
    .input(metricsSeriesInput)
    .query(({ ctx, input }) =>
      seriesFor(
        ctx.obs.store,
        ctx.repos.rollups,
        { service: input.service, source: input.source, destination: input.destination },
        input.rangeSeconds,
      ),
    ),
});

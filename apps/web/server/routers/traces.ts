import { z } from "zod";
import { notFound } from "../errors.ts";
import { router, viewerProcedure } from "../trpc.ts";

const name = z.string().min(1).max(63);

export const tracesSearchInput = z.object({
  service: name.optional(),
  /** With `service`: its calls to this service (the graph edge service → peer). */
  peer: name.optional(),
  errorsOnly: z.boolean().default(false),
  minDurationMs: z.number().min(0).max(3_600_000).optional(),
  /** Look back this many seconds (default 1 h). */
  sinceSeconds: z
    .number()
    .int()
    .min(10)
    .max(30 * 86_400)
    .default(3600),
  sort: z.enum(["recent", "slowest"]).default("recent"),
  limit: z.number().int().min(1).max(100).default(25),
  cursor: z.string().max(64).optional(),
});

export const tracesRouter = router({
  /** Traces with a span matching the filter, newest (or slowest) first, cursor-paginated. */
  search: viewerProcedure.input(tracesSearchInput).query(async ({ ctx, input }) => {
    const now = Date.now();
    // Spans still in the write queue become visible at the next flush (≤ flush interval).
    return ctx.repos.spans.search({
      service: input.service,
      peer: input.peer,
      errorsOnly: input.errorsOnly,
      minDurationMs: input.minDurationMs,
      fromMs: now - input.sinceSeconds * 1000,
      sort: input.sort,
      limit: input.limit,
      cursor: input.cursor,
    });
  }),

  /** Every stored span of one trace, by start time. */
  get: viewerProcedure.input(z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/) })).query(async ({ ctx, input }) => {
    const spans = await ctx.repos.spans.trace(input.traceId);
    if (spans.length === 0) throw notFound(`no spans stored for trace ${input.traceId}`);
    return { traceId: input.traceId, spans };
  }),

  /** Services that have stored spans recently (for the filter). */
  stats: viewerProcedure
    .input(z.object({}).optional())
    .query(async ({ ctx }) => ({ ...ctx.obs.spans.stats(), stored: await ctx.repos.spans.count() })),
});

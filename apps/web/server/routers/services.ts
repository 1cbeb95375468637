import { serviceNameSchema } from "@trellis/protocol";
import { z } from "zod";
import { buildServiceRows } from "../../shared/services-overview.ts";
import { notFound } from "../errors.ts";
import { DEFAULT_WINDOW_SECONDS } from "../live-view.ts";
import { router, viewerProcedure } from "../trpc.ts";

export const servicesGetInput = z.object({
  name: serviceNameSchema,
  windowSeconds: z.number().int().min(1).max(900).default(DEFAULT_WINDOW_SECONDS),
  seriesSeconds: z.number().int().min(10).max(900).default(120),
});

export const servicesRouter = router({
  /** Every registered service with its versions and instance counts, plus live inbound stats. */
  list: viewerProcedure.input(z.object({}).optional()).query(async ({ ctx }) => {
    const services = await ctx.repos.services.list();
    const graph = ctx.live.graph();
    const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    return services.map((s) => {
      const n = nodes.get(`s:${s.name}`);
      return {
        ...s,
        health: n?.health ?? "idle",
        rps: n?.rps ?? 0,
        p99Ms: n?.p99Ms ?? 0,
        errorPct: n?.errorPct ?? 0,
      };
    });
  }),

  /**
   * The services overview: every registered service with live inbound rps / error % / p99, its mTLS mode (and the
   * observed mTLS share), versions, the worst sync state of its connected agents and an rps trend of the last minutes.
   */
  overview: viewerProcedure
    .input(
      z
        .object({
          trendSeconds: z.number().int().min(60).max(900).default(300),
          stepSeconds: z.number().int().min(1).max(60).default(10),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const [services, mtlsModes, meshDefault] = await Promise.all([
        ctx.repos.services.withAgents(),
        ctx.repos.security.mtlsModes(),
        ctx.repos.security.meshDefault(),
      ]);
      const trend = ctx.live.rpsTrends(input?.trendSeconds ?? 300, input?.stepSeconds ?? 10);
      const rows = buildServiceRows({ services, mtlsModes, meshDefault, graph: ctx.live.graph(), trends: trend.trends, trendBins: trend.bins });
      return { stepSeconds: trend.range.stepSeconds, trendToMs: (trend.range.toSec + 1) * 1000, rows };
    }),

  /** One service: versions, instances (connection, last seen, sync state, config version), recent stats in and out. */
  get: viewerProcedure.input(servicesGetInput).query(async ({ ctx, input }) => {
    const service = await ctx.repos.services.get(input.name);
    if (!service) throw notFound(`no service named ${input.name}`);
    const stats = ctx.live.serviceStats(input.name, input.windowSeconds, input.seriesSeconds);
    return { ...service, configVersion: ctx.hub.currentVersion, stats };
  }),
});

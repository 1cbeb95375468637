import { serviceNameSchema } from "@trellis/protocol";
import { z } from "zod";
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

  /** One service: versions, instances (connection, last seen, sync state, config version), recent stats in and out. */
  get: viewerProcedure.input(servicesGetInput).query(async ({ ctx, input }) => {
    const service = await ctx.repos.services.get(input.name);
    if (!service) throw notFound(`no service named ${input.name}`);
    const stats = ctx.live.serviceStats(input.name, input.windowSeconds, input.seriesSeconds);
    return { ...service, configVersion: ctx.hub.currentVersion, stats };
  }),
});

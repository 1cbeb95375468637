/**
 * Canary rollouts of a service: the view (viewer) and start / pause / resume / abort (operator). Settings are taken
 * as they come and validated by the canary service (server/canary) with its schema; defaults fill what is left out.
 */
import { serviceNameSchema, versionSchema } from "@trellis/protocol";
import { z } from "zod";
import { DEFAULT_SETTINGS } from "../canary/settings.ts";
import { actorOf, operatorProcedure, router, viewerProcedure } from "../trpc.ts";

const serviceInput = z.object({ service: serviceNameSchema });

export const canaryRouter = router({
  /** The service's newest rollout (or null), its analysis windows, the window under way, and the default settings. */
  get: viewerProcedure
    .input(serviceInput)
    .query(async ({ ctx, input }) => ({ ...(await ctx.canaries.view(input.service)), defaults: DEFAULT_SETTINGS })),

  start: operatorProcedure
    .input(
      z.object({
        service: serviceNameSchema,
        baseline: versionSchema,
        canary: versionSchema,
        settings: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .mutation(({ ctx, input }) => ctx.canaries.start(input, actorOf(ctx))),

  pause: operatorProcedure.input(serviceInput).mutation(({ ctx, input }) => ctx.canaries.command(input.service, "pause", actorOf(ctx))),
  resume: operatorProcedure.input(serviceInput).mutation(({ ctx, input }) => ctx.canaries.command(input.service, "resume", actorOf(ctx))),
  /** Stops the rollout and sends every call back to the baseline (a revision, as every step). */
  abort: operatorProcedure.input(serviceInput).mutation(({ ctx, input }) => ctx.canaries.command(input.service, "abort", actorOf(ctx))),
});

import { z } from "zod";
import { DEFAULT_WINDOW_SECONDS } from "../live-view.ts";
import { router, viewerProcedure } from "../trpc.ts";

export const graphLiveInput = z.object({ windowSeconds: z.number().int().min(1).max(900).default(DEFAULT_WINDOW_SECONDS) }).optional();

export const graphRouter = router({
  /** The live service graph: same shape as the `/ws/live` frame (LiveGraph). */
  live: viewerProcedure.input(graphLiveInput).query(({ ctx, input }) => ctx.live.graph(input?.windowSeconds ?? DEFAULT_WINDOW_SECONDS)),
});

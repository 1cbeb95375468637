/**
 * CA rotation (admin): the mesh's trust bundle, the rotation's phase with each agent's progress, and the guided
 * steps — start (a new root generated here, or an operator's intermediate CA from a directory on the console host),
 * advance (refused with CONSOLE_NOT_READY until every connected agent has reached the phase).
 */
import { z } from "zod";
import { log } from "../log.ts";
import { rotationView } from "../security/rotation-view.ts";
import { actorOf, adminProcedure, router } from "../trpc.ts";

export const caRouter = router({
  /** The phase, the authorities in the bundle, and each connected agent's progress. */
  rotation: adminProcedure.query(({ ctx }) => rotationView(ctx.trust.state, ctx.hub.agentsTrust())),

  /** Phase 1: the new root (or the plug-in intermediate's root) joins the bundle and is pushed to every agent. */
  startRotation: adminProcedure.input(z.object({ pluginDir: z.string().trim().min(1).max(1024).optional() })).mutation(async ({ ctx, input }) => {
    const state = await ctx.trust.start(actorOf(ctx), input.pluginDir ?? null);
    log.info("CA rotation started", { actor: actorOf(ctx), next: state.rotation?.next.id, plugin: input.pluginDir !== undefined });
    await ctx.audit.record({
      action: "ca.rotation.start",
      target: state.rotation?.next.id ?? null,
      outcome: "success",
      details: { plugin: input.pluginDir !== undefined },
    });
    return rotationView(state, ctx.hub.agentsTrust());
  }),

  /** The next phase: reissue (certificates from the new root), remove the old root, then done. */
  advanceRotation: adminProcedure.mutation(async ({ ctx }) => {
    const state = ctx.trust.advance(ctx.hub.agentsTrust(), actorOf(ctx));
    await ctx.audit.record({
      action: "ca.rotation.advance",
      target: state.rotation?.next.id ?? null,
      outcome: "success",
      details: { phase: state.rotation?.phase ?? "done" },
    });
    return rotationView(state, ctx.hub.agentsTrust());
  }),
});

import { z } from "zod";
import { router, viewerProcedure } from "../trpc.ts";

export const agentsListInput = z.object({ connectedOnly: z.boolean().default(false) }).optional();

export const agentsRouter = router({
  /**
   * Every known agent (instance) with its sync state per config version, and the current config version. Replicas:
   * agents held by another console come as that console wrote them (sync state every 200 ms, lastSeen every few s).
   */
  list: viewerProcedure.input(agentsListInput).query(async ({ ctx, input }) => {
    const agents = await ctx.repos.instances.list({ connectedOnly: input?.connectedOnly ?? false });
    const live = new Map(ctx.hub.sessionsInfo().map((s) => [s.instanceId, s]));
    return {
      configVersion: ctx.hub.currentVersion,
      connected: await ctx.repos.instances.countConnected(),
      /** This console replica (agents' `replicaId` names the one holding each socket). */
      replicaId: ctx.hub.replica.id,
      agents: agents.map((a) => {
        const s = live.get(a.instanceId);
        return {
          ...a,
          // The hub's in-memory view is newer than the row while a write is queued.
          syncState: s?.syncState ?? a.syncState,
          sentVersion: s?.sentVersion ?? a.sentVersion,
          ackedVersion: s?.ackedVersion ?? a.ackedVersion,
          syncError: s ? s.lastError : a.syncError,
          pending: s?.pending ?? false,
          telemetryFrames: s?.telemetryFrames ?? 0,
          /** The certificate issued on its current connection (null: none, or not connected). */
          certificate: s?.certificate ?? null,
        };
      }),
    };
  }),
});

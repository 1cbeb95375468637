/**
 * Traffic management API. Reads need a viewer; every change needs an operator and is recorded with `actorOf(ctx)`.
 * Policy inputs are taken as they come and validated on the change road (server/changes) with the protocol's schemas,
 * so that an invalid policy is answered with a message naming the field (`split: weights must sum to 100 (got 110)`).
 */
import { type ServicePolicy, serviceNameSchema } from "@trellis/protocol";
import { z } from "zod";
import type { ChangeResult } from "../changes/index.ts";
import { actorOf, operatorProcedure, router, viewerProcedure } from "../trpc.ts";

const serviceInput = z.object({ service: serviceNameSchema });

/** A traffic change as the API answers it: the revision (null: nothing changed), the version, the whole policy. */
function asPolicy({ revision, configVersion, doc }: ChangeResult<ServicePolicy>) {
  return { revision, configVersion, policy: doc };
}

export const trafficRouter = router({
  /** A service's policy, its versions, the current config version and how far the agents got with it. */
  get: viewerProcedure.input(serviceInput).query(async ({ ctx, input }) => {
    const { policy, versions } = await ctx.changes.trafficPolicy(input.service);
    const [last] = await ctx.changes.history({ service: input.service, limit: 1 });
    const configVersion = ctx.hub.currentVersion;
    return {
      service: input.service,
      versions,
      policy,
      configVersion,
      lastRevision: last ?? null,
      /** Sync of the change last made to this service (its config version), else of the current version. */
      sync: await ctx.hub.meshSyncOf(last && last.configVersion > 0 ? last.configVersion : configVersion),
    };
  }),

  /** Sync state of a config version across the connected agents ("applied on 4/4 instances"). */
  sync: viewerProcedure.input(z.object({ version: z.number().int().nonnegative() })).query(({ ctx, input }) => ctx.hub.meshSyncOf(input.version)),

  /** Sets the default split (weights sum to 100, known versions); `null` removes it. */
  setSplit: operatorProcedure
    .input(z.object({ service: serviceNameSchema, split: z.unknown() }))
    .mutation(async ({ ctx, input }) => asPolicy(await ctx.changes.setSplit(input.service, input.split ?? null, actorOf(ctx)))),

  /**
   * Mirrors a share of the service's calls to one of its versions (`{version, percent}`, fire and forget: answers
   * discarded, Host marked `<service>-shadow`); `null` stops mirroring. Validated with the protocol's schema.
   */
  setMirror: operatorProcedure
    .input(z.object({ service: serviceNameSchema, mirror: z.unknown() }))
    .mutation(async ({ ctx, input }) => asPolicy(await ctx.changes.setMirror(input.service, input.mirror ?? null, actorOf(ctx)))),

  /** Replaces parts of the policy: mirror, routes, timeoutMs, idleTimeoutMs, retries, circuitBreaker, outlierDetection, loadBalancer, faultInjection, split. */
  update: operatorProcedure
    .input(z.object({ service: serviceNameSchema, patch: z.record(z.string(), z.unknown()) }))
    .mutation(async ({ ctx, input }) => asPolicy(await ctx.changes.updatePolicy(input.service, input.patch, actorOf(ctx)))),
});

export const revisionsRouter = router({
  /** The config history, newest first. */
  list: viewerProcedure
    .input(z.object({ service: serviceNameSchema.optional(), limit: z.number().int().min(1).max(500).default(100) }).optional())
    .query(({ ctx, input }) => ctx.changes.history({ service: input?.service, limit: input?.limit ?? 100 })),

  /**
   * Reverts what a revision changed, of any part (traffic, mtls, authz, sampling), and only that: refused
   * (CONFLICT) when a later revision changed the same fields. The rollback is a new revision.
   */
  rollback: operatorProcedure
    .input(z.object({ id: z.number().int().positive() }))
    .mutation(({ ctx, input }) => ctx.changes.rollback(input.id, actorOf(ctx))),
});

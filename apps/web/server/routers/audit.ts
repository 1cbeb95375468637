/** The audit log (admin): sign-ins, sign-outs, users, join tokens and config changes, newest first, with filters. */
import { z } from "zod";
import { AUDIT_OUTCOMES } from "../repositories/audit.ts";
import { adminProcedure, router } from "../trpc.ts";

export const auditListInput = z.object({
  actor: z.string().trim().min(1).max(128).optional(),
  /** An exact action (`auth.signin`) or a prefix ending in a dot (`config.`). */
  action: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/)
    .optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Paging: events older than this id. */
  before: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(500).default(100),
});

export const auditRouter = router({
  list: adminProcedure.input(auditListInput).query(async ({ ctx, input }) => {
    const events = await ctx.repos.audit.list({
      ...input,
      from: input.from ? new Date(input.from) : undefined,
      to: input.to ? new Date(input.to) : undefined,
    });
    return { events, nextBefore: events.length === input.limit ? events[events.length - 1].id : null };
  }),
});

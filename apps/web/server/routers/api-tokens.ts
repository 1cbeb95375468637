/**
 * API tokens (admin): list, create (the value is returned once, only its hash is kept), revoke. Each step audited
 * (`api-token.create` / `api-token.revoke`, never the value).
 */
import { z } from "zod";
import { conflict, invalidInput, notFound } from "../errors.ts";
import { hashToken, tokenPrefix } from "../join-token.ts";
import { log } from "../log.ts";
import { ROLES } from "../repositories/security.ts";
import { newApiToken } from "../security/api-tokens.ts";
import { actorOf, adminProcedure, router } from "../trpc.ts";

const createInput = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, "letters, digits, '.', '_' or '-' (at most 64)"),
  role: z.enum(ROLES as ["viewer", "operator", "admin"]),
  /** When it stops working (ISO 8601, in the future); null = never. */
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
});

export const apiTokensRouter = router({
  list: adminProcedure.query(({ ctx }) => ctx.repos.apiTokens.list()),

  create: adminProcedure.input(createInput).mutation(async ({ ctx, input }) => {
    if (await ctx.repos.apiTokens.byName(input.name)) throw conflict(`an API token named ${input.name} exists`);
    const expiresAt = input.expiresAt === null ? null : new Date(input.expiresAt);
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw invalidInput("expiresAt: must be in the future");
    const value = newApiToken();
    const row = await ctx.repos.apiTokens.create({
      name: input.name,
      tokenHash: hashToken(value),
      prefix: tokenPrefix(value),
      role: input.role,
      createdBy: actorOf(ctx),
      expiresAt,
    });
    log.info("API token created", { name: row.name, role: row.role, actor: actorOf(ctx) });
    await ctx.audit.record({
      action: "api-token.create",
      target: row.name,
      outcome: "success",
      details: { role: row.role, expiresAt: row.expiresAt },
    });
    return { ...row, token: value };
  }),

  revoke: adminProcedure.input(z.object({ id: z.string().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    const row = await ctx.repos.apiTokens.revoke(input.id, new Date());
    if (!row) throw notFound("no such active API token");
    log.info("API token revoked", { name: row.name, actor: actorOf(ctx) });
    await ctx.audit.record({ action: "api-token.revoke", target: row.name, outcome: "success" });
    return row;
  }),
});

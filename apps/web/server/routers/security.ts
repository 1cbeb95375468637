/** Security: mTLS mode and authorization rules per service (operator), denials (viewer), users and join tokens (admin). */
import { authzRuleSchema, mtlsModeSchema, serviceNameSchema, spiffeIdOf } from "@trellis/protocol";
import { z } from "zod";
import { generateAuthzFromTraffic } from "../../shared/authz-from-traffic.ts";
import { conflict, invalidInput, notFound } from "../errors.ts";
import { hashToken, newJoinToken, tokenPrefix } from "../join-token.ts";
import { log } from "../log.ts";
import { ROLES } from "../repositories/security.ts";
import { hashPassword, validPassword } from "../security/auth.ts";
import { observedCallers } from "../security/observed-callers.ts";
import { parseScope, scopeText } from "../security/token-scope.ts";
import { actorOf, adminProcedure, operatorProcedure, router, viewerProcedure } from "../trpc.ts";

/** How far back the mTLS panel looks for plaintext callers. */
const PLAINTEXT_WINDOW_SECONDS = 60;

const roleSchema = z.enum(ROLES as [string, ...string[]]);

export const securityRouter = router({
  /** The signed-in user. */
  me: viewerProcedure.query(({ ctx }) => ctx.user),

  /**
   * A service's mTLS mode (its override or the mesh default, `inherited`, and as pushed), who reached it in plaintext
   * in the last minute (live telemetry: what STRICT would refuse), authorization rules and recent denials.
   */
  service: viewerProcedure.input(z.object({ name: serviceNameSchema })).query(async ({ ctx, input }) => {
    const [own, meshDefault] = await Promise.all([ctx.repos.security.mtlsOf(input.name), ctx.repos.security.meshDefault()]);
    const rules = await ctx.repos.security.authzRules(input.name);
    return {
      name: input.name,
      spiffeId: spiffeIdOf(ctx.trustDomain, input.name),
      mtls: own?.mode ?? meshDefault,
      inherited: own?.inherited ?? true,
      meshDefault,
      effectiveMtls: ctx.hub.effectiveMtlsMode(input.name),
      plaintextCallers: ctx.live.plaintextCallers(input.name, PLAINTEXT_WINDOW_SECONDS),
      plaintextWindowSeconds: PLAINTEXT_WINDOW_SECONDS,
      rules,
      denials: ctx.denials.forService(input.name),
    };
  }),

  /** The mesh-wide mTLS default (services without an override). */
  meshMtls: viewerProcedure.query(async ({ ctx }) => ({ defaultMode: await ctx.repos.security.meshDefault() })),

  /** Changes the mesh-wide mTLS default: a mesh-wide config revision (part `mtls-default`, with rollback), pushed. */
  setMeshMtls: operatorProcedure.input(z.object({ mode: z.enum(["PERMISSIVE", "STRICT"]) })).mutation(async ({ ctx, input }) => {
    const actor = actorOf(ctx);
    const { revision, configVersion } = await ctx.changes.setMtlsDefault(input.mode, actor);
    log.info("mesh mTLS default changed", { mode: input.mode, actor, revision: revision?.id ?? null });
    return { defaultMode: input.mode, revision, configVersion };
  }),

  /** Changes a service's mTLS mode: recorded as a config revision (kind `mtls`) and pushed; rollback restores it. */
  setMtls: operatorProcedure.input(z.object({ name: serviceNameSchema, mode: mtlsModeSchema })).mutation(async ({ ctx, input }) => {
    const actor = actorOf(ctx);
    const { revision, configVersion } = await ctx.changes.setMtls(input.name, input.mode, actor);
    log.info("mTLS mode changed", { service: input.name, mode: input.mode, actor, revision: revision?.id ?? null });
    return { name: input.name, mode: input.mode, revision, configVersion };
  }),

  /** Adds an allow rule (a config revision of kind `authz`). A bare service name is shorthand for its SPIFFE id. */
  addRule: operatorProcedure.input(z.object({ name: serviceNameSchema, rule: authzRuleSchema })).mutation(async ({ ctx, input }) => {
    const actor = actorOf(ctx);
    const principals = input.rule.principals.map((p) => (p === "*" || p.startsWith("spiffe://") ? p : spiffeIdOf(ctx.trustDomain, p)));
    const { id, revision, configVersion } = await ctx.changes.addAuthzRule(input.name, { ...input.rule, principals }, actor);
    log.info("authorization rule added", { service: input.name, principals, actor, revision: revision?.id ?? null });
    return { id, revision, configVersion };
  }),

  /**
   * "Allow the callers seen in the last N minutes": the rules generated from observed traffic into the service, with
   * the diff they would make — shown before anything is applied.
   */
  generateAuthz: viewerProcedure
    .input(z.object({ name: serviceNameSchema, minutes: z.number().int().min(1).max(1440) }))
    .query(async ({ ctx, input }) => {
      const [observed, rows] = await Promise.all([
        observedCallers(ctx.live, ctx.repos.rollups, input.name, input.minutes),
        ctx.repos.security.authzRules(input.name),
      ]);
      const current = rows.map((r) => ({ principals: r.principals, methods: r.methods, paths: r.paths }));
      return { minutes: input.minutes, ...generateAuthzFromTraffic({ service: input.name, trustDomain: ctx.trustDomain, observed, current }) };
    }),

  /** Applies generated rules (as previewed) in one `authz` revision on the change road; present ones are skipped. */
  applyGeneratedAuthz: operatorProcedure
    .input(z.object({ name: serviceNameSchema, minutes: z.number().int().min(1).max(1440), rules: z.array(authzRuleSchema).min(1).max(256) }))
    .mutation(async ({ ctx, input }) => {
      const actor = actorOf(ctx);
      const summary = `allow the ${input.rules.length} caller${input.rules.length === 1 ? "" : "s"} seen in the last ${input.minutes} min`;
      const { revision, configVersion } = await ctx.changes.addAuthzRules(input.name, input.rules, actor, summary);
      log.info("authorization rules generated from traffic applied", {
        service: input.name,
        rules: input.rules.length,
        actor,
        revision: revision?.id ?? null,
      });
      return { revision, configVersion };
    }),

  /** Removes an allow rule (a config revision of kind `authz`). */
  removeRule: operatorProcedure.input(z.object({ id: z.string().min(1).max(64) })).mutation(async ({ ctx, input }) => {
    const { revision, configVersion } = await ctx.changes.removeAuthzRule(input.id, actorOf(ctx));
    log.info("authorization rule removed", { id: input.id, actor: actorOf(ctx), revision: revision?.id ?? null });
    return { ok: true, revision, configVersion };
  }),

  users: adminProcedure.query(({ ctx }) => ctx.repos.users.list()),

  createUser: adminProcedure
    .input(z.object({ username: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/), password: z.string().max(256), role: roleSchema }))
    .mutation(async ({ ctx, input }) => {
      const bad = validPassword(input.password);
      if (bad) throw invalidInput(bad);
      if (await ctx.repos.users.findByUsername(input.username)) throw conflict("username taken");
      const user = await ctx.repos.users.create(input.username, await hashPassword(input.password), input.role as never);
      log.info("user created", { username: user.username, role: user.role, actor: actorOf(ctx) });
      await ctx.audit.record({ action: "user.create", target: user.username, outcome: "success", details: { role: user.role } });
      return user;
    }),

  setRole: adminProcedure.input(z.object({ id: z.string().min(1), role: roleSchema })).mutation(async ({ ctx, input }) => {
    if (input.id === ctx.user.id && input.role !== "admin") throw invalidInput("you cannot demote yourself");
    const before = await ctx.repos.users.byId(input.id);
    if (!(await ctx.repos.users.setRole(input.id, input.role as never))) throw notFound("no such user");
    ctx.auth.invalidate();
    await ctx.audit.record({
      action: "user.role",
      target: before?.username ?? input.id,
      outcome: "success",
      details: { from: before?.role ?? null, to: input.role },
    });
    return { ok: true };
  }),

  deleteUser: adminProcedure.input(z.object({ id: z.string().min(1) })).mutation(async ({ ctx, input }) => {
    if (input.id === ctx.user.id) throw invalidInput("you cannot delete yourself");
    const before = await ctx.repos.users.byId(input.id);
    if (!(await ctx.repos.users.remove(input.id))) throw notFound("no such user");
    ctx.auth.invalidate();
    await ctx.audit.record({
      action: "user.delete",
      target: before?.username ?? input.id,
      outcome: "success",
      details: { role: before?.role ?? null },
    });
    return { ok: true };
  }),

  tokens: adminProcedure.query(({ ctx }) => ctx.repos.joinTokens.list()),

  /**
   * Creates a join token; its value is in this response only. `scope`: the services it may register (names or glob
   * patterns such as `shop-*`, as a list or one comma-separated string); absent or empty = any service.
   */
  createToken: adminProcedure
    .input(z.object({ name: z.string().min(1).max(64), scope: z.union([z.string().max(1000), z.array(z.string().max(63)).max(50)]).optional() }))
    .mutation(async ({ ctx, input }) => {
      const given = typeof input.scope === "string" ? input.scope.trim() : input.scope;
      const scope = given && given.length > 0 ? parseScope(given) : null;
      const token = newJoinToken();
      const row = await ctx.repos.joinTokens.create(input.name, hashToken(token), tokenPrefix(token), actorOf(ctx), scope);
      log.info("join token created", { id: row.id, name: row.name, scope: scopeText(scope), actor: actorOf(ctx) });
      await ctx.audit.record({
        action: "token.create",
        target: row.id,
        outcome: "success",
        details: { name: row.name, prefix: row.prefix, scope: scopeText(scope) },
      });
      return { ...row, token };
    }),

  revokeToken: adminProcedure.input(z.object({ id: z.string().min(1) })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.repos.joinTokens.revoke(input.id, new Date()))) throw notFound("no such active token");
    const disconnected = ctx.hub.revokeToken(input.id);
    log.info("join token revoked", { id: input.id, disconnected, actor: actorOf(ctx) });
    await ctx.audit.record({ action: "token.revoke", target: input.id, outcome: "success", details: { disconnected } });
    return { ok: true, disconnected };
  }),
});

/**
 * tRPC setup: context and procedure builders. Served by the custom server through tRPC's Node HTTP adapter at
 * `/api/trpc` (same process as the hubs: one Prisma client, one hub). No transformer: responses are plain JSON
 * (`{"result":{"data":…}}`), readable with fetch; dates travel as ISO strings.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { AuditLog } from "./audit/audit-log.ts";
import { withRequestActor } from "./audit/request-actor.ts";
import type { Canaries } from "./canary/canaries.ts";
import type { ConfigChanges } from "./changes/index.ts";
import type { ControlPlane } from "./control-plane/index.ts";
import { ConsoleError, type ConsoleErrorCode } from "./errors.ts";
import type { LiveView } from "./live-view.ts";
import type { Observability } from "./observability/index.ts";
import type { Replication } from "./replicas/index.ts";
import type { Repositories, Role, SessionUser } from "./repositories/index.ts";
import type { Auth } from "./security/auth.ts";
import type { DenialStore } from "./security/denials.ts";
import type { MeshTrust } from "./security/mesh-trust.ts";

export interface Services {
  repos: Repositories;
  live: LiveView;
  hub: ControlPlane;
  auth: Auth;
  denials: DenialStore;
  trustDomain: string;
  /** Every config change (traffic, mTLS, authorization, sampling), its history and rollback. */
  changes: ConfigChanges;
  /** Canary rollouts (start, pause, resume, abort, the analysis). */
  canaries: Canaries;
  obs: Observability;
  /** The mesh CA's trust bundle and its rotation. */
  trust: MeshTrust;
  /** The audit log (sign-ins, users, tokens, config changes). */
  audit: AuditLog;
  /** This console among the replicas sharing the database: id, heartbeats, leases, shared telemetry. */
  replication: Replication;
}

/** Per request: the services plus the signed-in user (null without a session; the custom server sets it) and the client's address. */
export type Context = Services & { user: SessionUser | null; clientAddress?: string | null };

const t = initTRPC.context<Context>().create();

export const router = t.router;

/** The one place domain errors become API errors: each `CONSOLE_*` code has its tRPC code (and so its HTTP status). */
const TRPC_CODE: Record<ConsoleErrorCode, TRPCError["code"]> = {
  CONSOLE_NOT_FOUND: "NOT_FOUND",
  CONSOLE_INVALID_CONFIG: "BAD_REQUEST",
  CONSOLE_INVALID_INPUT: "BAD_REQUEST",
  CONSOLE_ROLLBACK_CONFLICT: "CONFLICT",
  CONSOLE_CONFLICT: "CONFLICT",
  CONSOLE_NOT_READY: "PRECONDITION_FAILED",
};
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof ConsoleError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODE[cause.code], message: cause.message, cause });
  }
  return result;
});
const base = t.procedure.use(domainErrors);

/*
 * Role-named procedures. Every router uses one of these three (there is no public procedure: the console is never
 * open), so that access control lives here: reads need a viewer, config changes an operator, users and tokens an admin.
 * No session → UNAUTHORIZED (401); a role below the one needed → FORBIDDEN (403). (CSRF for mutations is checked by
 * the custom server before tRPC runs: same Origin + the x-trellis-csrf header.)
 */
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
function requireRole(needed: Role) {
  return t.middleware(({ ctx, next }) => {
    const user = ctx.user;
    if (!user) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in required" });
    if (RANK[user.role] < RANK[needed]) throw new TRPCError({ code: "FORBIDDEN", message: `needs the ${needed} role (you are ${user.role})` });
    // What the call does is audited as this user, from this address (audit/request-actor.ts).
    return withRequestActor(
      { actorKind: user.kind === "token" ? "token" : "user", actor: user.username, clientAddress: ctx.clientAddress ?? null },
      () => next({ ctx: { ...ctx, user } }),
    );
  });
}
export const viewerProcedure = base.use(requireRole("viewer"));
export const operatorProcedure = base.use(requireRole("operator"));
export const adminProcedure = base.use(requireRole("admin"));
export const createCallerFactory = t.createCallerFactory;

/** Who a change is recorded as in the config history: the signed-in user, or `token:<name>` for an API token. */
export function actorOf(ctx: Pick<Context, "user">): string {
  return ctx.user?.username ?? "system";
}

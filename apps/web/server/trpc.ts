/**
 * tRPC setup: context and procedure builders. Served by the custom server through tRPC's Node HTTP adapter at
 * `/api/trpc` (same process as the hubs: one Prisma client, one hub). No transformer: responses are plain JSON
 * (`{"result":{"data":…}}`), readable with fetch; dates travel as ISO strings.
 */
import { initTRPC } from "@trpc/server";
import type { AgentHub } from "./agent-hub.ts";
import type { LiveView } from "./live-view.ts";
import type { Observability } from "./observability/index.ts";
import type { Repositories } from "./repositories/index.ts";
import type { TrafficService } from "./traffic.ts";

export interface Services {
  repos: Repositories;
  live: LiveView;
  hub: AgentHub;
  traffic: TrafficService;
  obs: Observability;
}

export type Context = Services;

const t = initTRPC.context<Context>().create();

export const router = t.router;
export const publicProcedure = t.procedure;
/*
 * Role-named procedures. Every router uses one of these three, never `publicProcedure` directly, so that access
 * control lives here: reads need a viewer, config changes an operator, users and tokens an admin.
 * (Until console sign-in lands they do not check anything yet.)
 */
export const viewerProcedure = t.procedure;
export const operatorProcedure = t.procedure;
export const adminProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;

/** Who a change is recorded as in the config history (the signed-in user once console sign-in lands). */
export function actorOf(_ctx: Context): string {
  return "anonymous";
}

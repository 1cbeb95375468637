/** The tRPC app router. Its type is all the browser imports from the server. */

import { agentsRouter } from "./routers/agents.ts";
import { apiTokensRouter } from "./routers/api-tokens.ts";
import { auditRouter } from "./routers/audit.ts";
import { caRouter } from "./routers/ca.ts";
import { canaryRouter } from "./routers/canary.ts";
import { graphRouter } from "./routers/graph.ts";
import { replicasRouter } from "./routers/replicas.ts";
import { securityRouter } from "./routers/security.ts";
import { servicesRouter } from "./routers/services.ts";
import { telemetryRouter } from "./routers/telemetry.ts";
import { tracesRouter } from "./routers/traces.ts";
import { revisionsRouter, trafficRouter } from "./routers/traffic.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  graph: graphRouter,
  services: servicesRouter,
  agents: agentsRouter,
  security: securityRouter,
  traffic: trafficRouter,
  canary: canaryRouter,
  revisions: revisionsRouter,
  traces: tracesRouter,
  telemetry: telemetryRouter,
  ca: caRouter,
  audit: auditRouter,
  apiTokens: apiTokensRouter,
  replicas: replicasRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

/** The tRPC app router. Its type is all the browser imports from the server. */
import { agentsRouter } from "./routers/agents.ts";
import { graphRouter } from "./routers/graph.ts";
import { servicesRouter } from "./routers/services.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  graph: graphRouter,
  services: servicesRouter,
  agents: agentsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

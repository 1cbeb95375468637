/**
 * Who is acting, for the audit log, carried through a request's async work (AsyncLocalStorage): the tRPC layer sets
 * it once per call (trpc.ts), so deeper code — the config road — records the client address without every caller
 * passing it down.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage } from "node:http";
import type { ActorKind } from "../repositories/index.ts";

export interface RequestActor {
  actorKind: ActorKind;
  actor: string;
  clientAddress: string | null;
}

const current = new AsyncLocalStorage<RequestActor>();

export function withRequestActor<T>(actor: RequestActor, fn: () => T): T {
  return current.run(actor, fn);
}

export function currentRequestActor(): RequestActor | undefined {
  return current.getStore();
}

/** The client's address as the console saw it: the socket's peer (IPv4-mapped IPv6 shown as IPv4). Proxies are not trusted. */
export function clientAddressOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? "unknown";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

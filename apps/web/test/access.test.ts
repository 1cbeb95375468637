/**
 * Access control over the whole tRPC API, whichever issue added a procedure: without a session every procedure is
 * UNAUTHORIZED, and a viewer can run no mutation (FORBIDDEN). The role middleware runs before input validation and
 * before any service is touched, so no database is needed here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TRPCError } from "@trpc/server";
import { appRouter } from "../server/root.ts";
import { type Context, createCallerFactory } from "../server/trpc.ts";

type Proc = { _def: { type: "query" | "mutation" | "subscription" } };
const procedures = Object.entries((appRouter as unknown as { _def: { procedures: Record<string, Proc> } })._def.procedures);

async function call(user: Context["user"], path: string): Promise<string> {
  const caller = createCallerFactory(appRouter)({ user } as Context) as unknown as Record<string, unknown>;
  let fn: unknown = caller;
  for (const part of path.split(".")) fn = (fn as Record<string, unknown>)[part];
  try {
    await (fn as (input?: unknown) => Promise<unknown>)(undefined);
    return "OK";
  } catch (err) {
    return err instanceof TRPCError ? err.code : `not a TRPCError: ${(err as Error).message}`;
  }
}

test("the API has the procedures of every issue (traffic, revisions, traces, telemetry, security)", () => {
  const names = procedures.map(([p]) => p);
  for (const p of ["traffic.setSplit", "revisions.rollback", "traces.search", "telemetry.setPolicy", "security.setMtls"])
    assert.ok(names.includes(p), p);
});

test("without a session every procedure is UNAUTHORIZED", async () => {
  for (const [path] of procedures) assert.equal(await call(null, path), "UNAUTHORIZED", path);
});

test("a viewer can run no mutation", async () => {
  const viewer = { id: "u1", username: "vera", role: "viewer" as const };
  const mutations = procedures.filter(([, p]) => p._def.type === "mutation");
  assert.ok(mutations.length >= 10);
  for (const [path] of mutations) assert.equal(await call(viewer, path), "FORBIDDEN", path);
});

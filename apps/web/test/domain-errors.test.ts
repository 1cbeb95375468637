/**
 * Domain errors (server/errors.ts) become API errors in one place, the tRPC middleware in server/trpc.ts: each
 * `CONSOLE_*` code has its tRPC code; anything else stays an internal error. No database needed: the services in the
 * context are stubs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TRPCError } from "@trpc/server";
import { ConsoleError, invalidConfig, notFound, RollbackConflictError } from "../server/errors.ts";
import { appRouter } from "../server/root.ts";
import { type Context, createCallerFactory } from "../server/trpc.ts";

const operator = { id: "u1", username: "olga", role: "operator" as const };

function callerThrowing(err: Error) {
  const ctx = {
    user: operator,
    changes: {
      rollback: async () => {
        throw err;
      },
    },
  } as unknown as Context;
  return createCallerFactory(appRouter)(ctx);
}

async function trpcErrorOf(p: Promise<unknown>): Promise<TRPCError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TRPCError, `a TRPCError, got ${(err as Error).stack}`);
    return err;
  }
  assert.fail("expected a rejection");
}

test("each CONSOLE_* code maps to its tRPC code, keeping the message and the domain error as cause", async () => {
  const cases: [ConsoleError, TRPCError["code"]][] = [
    [notFound("id: no revision 9"), "NOT_FOUND"],
    [invalidConfig("split: weights must sum to 100 (got 110)"), "BAD_REQUEST"],
    [new ConsoleError("CONSOLE_INVALID_INPUT", "you cannot demote yourself"), "BAD_REQUEST"],
    [new ConsoleError("CONSOLE_CONFLICT", "username taken"), "CONFLICT"],
    [new RollbackConflictError(3, 7, ["timeoutMs"]), "CONFLICT"],
  ];
  for (const [domain, code] of cases) {
    const err = await trpcErrorOf(callerThrowing(domain).revisions.rollback({ id: 1 }));
    assert.equal(err.code, code, domain.code);
    assert.equal(err.message, domain.message);
    assert.equal(err.cause, domain);
  }
});

test("a rollback conflict names the later revision and the fields", async () => {
  const err = await trpcErrorOf(callerThrowing(new RollbackConflictError(3, 7, ["timeoutMs", "retries"])).revisions.rollback({ id: 3 }));
  assert.match(err.message, /cannot roll back revision 3: revision 7 changed timeoutMs, retries since/);
});

test("anything that is not a domain error stays an internal error", async () => {
  const err = await trpcErrorOf(callerThrowing(new Error("database is locked")).revisions.rollback({ id: 1 }));
  assert.equal(err.code, "INTERNAL_SERVER_ERROR");
});

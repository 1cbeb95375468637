/**
 * Domain errors of the console, thrown below the API layer (the change road, repositories, services) and by routers.
 * Each has a stable `code` naming the layer (`CONSOLE_*`, as undici's `UND_ERR_*`), which callers and tests may
 * match on; the message is for people. The tRPC layer maps them to TRPCError in one place (server/trpc.ts).
 */
export const CONSOLE_ERROR_CODES = [
  /** A named thing (service, revision, rule, user, token) does not exist. */
  "CONSOLE_NOT_FOUND",
  /** A config change the protocol's schemas reject (the message names the field). */
  "CONSOLE_INVALID_CONFIG",
  /** A request the console refuses as such (not a config document): unknown field, demoting yourself … */
  "CONSOLE_INVALID_INPUT",
  /** A rollback whose fields a later revision changed again (the message names that revision). */
  "CONSOLE_ROLLBACK_CONFLICT",
  /** A write that collides with existing state (a username taken). */
  "CONSOLE_CONFLICT",
  /** A step whose precondition does not hold yet (a CA rotation phase some agents have not reached). */
  "CONSOLE_NOT_READY",
] as const;

export type ConsoleErrorCode = (typeof CONSOLE_ERROR_CODES)[number];

export class ConsoleError extends Error {
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ConsoleError";
  }
}

export const notFound = (message: string) => new ConsoleError("CONSOLE_NOT_FOUND", message);
export const invalidConfig = (message: string) => new ConsoleError("CONSOLE_INVALID_CONFIG", message);
export const invalidInput = (message: string) => new ConsoleError("CONSOLE_INVALID_INPUT", message);
export const conflict = (message: string) => new ConsoleError("CONSOLE_CONFLICT", message);
export const notReady = (message: string) => new ConsoleError("CONSOLE_NOT_READY", message);

/**
 * A rollback refused: `laterRevision` changed some of the same fields since (`paths`), or — `sideEffect` — reverting
 * would also change fields the revision never changed (`paths`, e.g. the last allow rule gone: every caller allowed),
 * because of what later revisions did (`laterRevision`: the newest of them).
 */
export class RollbackConflictError extends ConsoleError {
  constructor(
    readonly revision: number,
    /** null when no recorded revision explains the change (the stored state was changed outside the history). */
    readonly laterRevision: number | null,
    readonly paths: string[],
    readonly sideEffect = false,
  ) {
    const since = laterRevision === null ? "a change outside the config history" : `revision ${laterRevision}`;
    super(
      "CONSOLE_ROLLBACK_CONFLICT",
      sideEffect
        ? `cannot roll back revision ${revision}: after ${since} it would also change ${paths.join(", ")}, which revision ${revision} did not change; change it directly`
        : `cannot roll back revision ${revision}: ${since} changed ${paths.join(", ")} since; ${laterRevision === null ? "change it directly" : `roll back revision ${laterRevision} first or change it directly`}`,
    );
    this.name = "RollbackConflictError";
  }
}

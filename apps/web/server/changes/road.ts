/**
 * The one road every config change takes, whatever its part (traffic policy, mTLS mode, authorization rules, the
 * mesh's sampling policy):
 *
 *   read the part → edit → validate (the protocol's schemas) → diff → revision (who, when, what, before/after, diff)
 *   written with the change in one transaction → publish a config version → stamp the revision with it.
 *
 * Nothing invalid is stored or published; a change that changes nothing makes no revision and no version. Changes run
 * one at a time (read-modify-write of a part and its revision must not interleave).
 *
 * Rollback reverts only what the revision changed, field by field: a field whose current value is still the
 * revision's `after` gets its `before` back; a field changed again since refuses the whole rollback with
 * CONSOLE_ROLLBACK_CONFLICT naming the later revision. The rollback is itself a revision.
 *
 * Every change that reaches the road is audited here, and only here (`config.<part>.<action>`, the service or
 * "mesh", the revision written; a refused change as a failure with its error code).
 */
import type { AuditLog } from "../audit/audit-log.ts";

import type { ConfigPublisher as ControlPlanePublisher } from "../control-plane/publisher.ts";
import { notFound, RollbackConflictError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Repositories, RevisionPart, RevisionRow } from "../repositories/index.ts";
import { type ChangeKind, canonical, changedPaths, type Fields, type Scope } from "./kind.ts";

/** What the road publishes through: the control plane cuts a config version with everything committed and sends it. */
export type ConfigPublisher = Pick<ControlPlanePublisher, "currentVersion" | "publish">;

export interface ChangeResult<D extends object = object> {
  /** null when the change changed nothing (no revision, no new version). */
  revision: RevisionRow | null;
  configVersion: number;
  /** The part's document after the change. */
  doc: D;
}

export interface ChangeOptions<D> {
  /** One line for the history (default: `<action>: <n> change(s)`). */
  summary?: (before: D, after: D, diff: string[]) => string;
  rollbackOf?: number;
}

export class ChangeRoad {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repos: Repositories,
    private readonly kinds: Record<RevisionPart, ChangeKind>,
    private readonly publisher: ConfigPublisher,
    private readonly log: Logger,
    private readonly audit: AuditLog | null = null,
  ) {}

  kind<D extends object>(part: RevisionPart): ChangeKind<D> {
    return this.kinds[part] as unknown as ChangeKind<D>;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Runs one change of `part` (of service `scope`, or mesh-wide with null): `edit` gets the current document. */
  async change<D extends object>(
    part: RevisionPart,
    scope: Scope,
    actor: string,
    action: string,
    edit: (current: D) => unknown | Promise<unknown>,
    opts: ChangeOptions<D> = {},
  ): Promise<ChangeResult<D>> {
    const audited = { actor, action: `config.${part}.${action}`, target: scope ?? "mesh" };
    try {
      const result = await this.commit(part, scope, actor, action, edit, opts);
      const r = result.revision;
      await this.audit?.record({
        ...audited,
        outcome: "success",
        revisionId: r?.id ?? null,
        details: r ? { summary: r.summary, configVersion: result.configVersion, rollbackOf: r.rollbackOf } : { unchanged: true },
      });
      return result;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      await this.audit?.record({
        ...audited,
        outcome: "failure",
        details: { code: typeof code === "string" ? code : "INTERNAL", message: (err as Error).message },
      });
      throw err;
    }
  }

  private async commit<D extends object>(
    part: RevisionPart,
    scope: Scope,
    actor: string,
    action: string,
    edit: (current: D) => unknown | Promise<unknown>,
    opts: ChangeOptions<D>,
  ): Promise<ChangeResult<D>> {
    const kind = this.kind<D>(part);
    const committed = await this.serial(async () => {
      const before = await kind.read(scope);
      const after = await kind.validate(await edit(before), scope, opts.rollbackOf !== undefined);
      if (canonical(before) === canonical(after)) return { revision: null, doc: after };
      const diff = kind.diff(before, after);
      const summary = opts.summary?.(before, after, diff) ?? `${action}: ${diff.length} change(s)`;
      const revision = await kind.write(scope, after, {
        part,
        service: scope,
        actor,
        kind: action,
        summary,
        before,
        after,
        diff,
        rollbackOf: opts.rollbackOf ?? null,
      });
      return { revision, doc: after };
    });
    if (committed.revision === null) return { revision: null, configVersion: this.publisher.currentVersion, doc: committed.doc };
    const { revision } = committed;
    const configVersion = await this.publisher.publish(scope ? [scope] : []);
    await this.repos.revisions.setConfigVersion(revision.id, configVersion);
    this.log.info("config change committed", {
      part,
      service: scope,
      kind: action,
      revision: revision.id,
      actor,
      configVersion,
      summary: revision.summary,
    });
    return { revision: { ...revision, configVersion }, configVersion, doc: committed.doc };
  }

  /** Reverts what revision `id` changed (and only that); the rollback is a new revision. */
  async rollback(id: number, actor: string): Promise<ChangeResult> {
    const rev = await this.repos.revisions.get(id);
    if (!rev) throw notFound(`id: no revision ${id}`);
    const kind = this.kind(rev.part);
    return this.change(rev.part, rev.service, actor, "rollback", (current) => this.reverted(rev, kind, current), {
      rollbackOf: id,
      summary: (_b, _a, diff) => `rollback of revision ${id}: ${diff.length} change(s)`,
    });
  }

  /** The current document with the revision's changed fields put back to their `before`, or a conflict. */
  private async reverted(rev: RevisionRow, kind: ChangeKind, current: object): Promise<unknown> {
    const before = kind.fields(rev.before);
    const after = kind.fields(rev.after);
    const now = kind.fields(current);
    const paths = changedPaths(before, after);
    const moved = paths.filter((p) => canonical(now[p]) !== canonical(after[p]));
    if (moved.length > 0) {
      for (const later of await this.repos.revisions.laterThan(rev.id, rev.part, rev.service)) {
        const touched = changedPaths(kind.fields(later.before), kind.fields(later.after)).filter((p) => moved.includes(p));
        if (touched.length > 0) throw new RollbackConflictError(rev.id, later.id, touched);
      }
      throw new RollbackConflictError(rev.id, null, moved);
    }
    const next: Fields = { ...now };
    for (const p of paths) {
      if (before[p] === undefined) delete next[p];
      else next[p] = before[p];
    }
    const result = kind.fromFields(next);
    // Fields the revision never changed must come out as they are (a kind's derived fields catch, e.g., the last rule
    // going: an empty allow-list lets every caller in).
    const side = changedPaths(now, kind.fields(result as object)).filter((p) => !paths.includes(p));
    if (side.length > 0) {
      const latest = (await this.repos.revisions.laterThan(rev.id, rev.part, rev.service)).at(-1);
      throw new RollbackConflictError(rev.id, latest?.id ?? null, side, true);
    }
    return result;
  }
}

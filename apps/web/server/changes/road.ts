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
 * Rollback puts back the part's document as the revision found it (its `before`). The rollback is itself a revision.
 */
import { notFound } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Repositories, RevisionPart, RevisionRow } from "../repositories/index.ts";
import { type ChangeKind, canonical, type Scope } from "./kind.ts";

/** What the road publishes through: cuts a config version with everything committed and sends it to the agents. */
export interface ConfigPublisher {
  readonly currentVersion: number;
  /** Resolves with the version the committed changes went out with. */
  publish(): Promise<number>;
}

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
    const configVersion = await this.publisher.publish();
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

  /** Puts back the part as revision `id` found it; the rollback is a new revision. */
  async rollback(id: number, actor: string): Promise<ChangeResult> {
    const rev = await this.repos.revisions.get(id);
    if (!rev) throw notFound(`id: no revision ${id}`);
    return this.change(rev.part, rev.service, actor, "rollback", () => rev.before, {
      rollbackOf: id,
      summary: (_b, _a, diff) => `rollback of revision ${id}: ${diff.length} change(s)`,
    });
  }
}

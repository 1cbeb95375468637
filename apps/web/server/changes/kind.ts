/**
 * What the change road (road.ts) needs to know about one part of the config: how to read it, validate a candidate
 * with the protocol's schemas, diff two versions of it, view it as fields (what a rollback reverts one by one) and
 * write it together with its revision. One small module per part in kinds/.
 */
import type { CommitInput, RevisionPart, RevisionRow } from "../repositories/index.ts";

/** Field path → value; an absent path is an unset field. */
export type Fields = Record<string, unknown>;

/** A service name, or null for a mesh-wide part. */
export type Scope = string | null;

export interface ChangeKind<D extends object = object> {
  readonly part: RevisionPart;
  /** The part's current document. Throws CONSOLE_NOT_FOUND for an unknown service. */
  read(scope: Scope): Promise<D>;
  /**
   * The candidate as a valid document, or CONSOLE_INVALID_CONFIG naming the field. `restoring`: a rollback puts back
   * what was valid when it was written (checks against the current registry, such as known versions, are skipped).
   */
  validate(candidate: unknown, scope: Scope, restoring: boolean): Promise<D>;
  /** Readable diff, one line per change. */
  diff(before: D, after: D): string[];
  fields(doc: D): Fields;
  /** The document with these fields (the inverse of `fields`); validated afterwards. */
  fromFields(fields: Fields): unknown;
  /** Stores `after` as the part's document and records the revision, in one transaction. */
  write(scope: Scope, after: D, revision: CommitInput): Promise<RevisionRow>;
}

/** JSON with object keys sorted at every level and undefined members dropped (equal documents, equal strings). */
export function canonical(v: unknown): string {
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** Paths whose values differ between two field views. */
export function changedPaths(a: Fields, b: Fields): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((p) => canonical(a[p]) !== canonical(b[p]));
}

/** A zod-style issue list as one message naming the fields: `sampleRate: Too big: expected number to be <=1`. */
export function issuesText(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join(".") || "(document)"}: ${i.message}`).join("; ");
}

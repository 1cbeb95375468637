/**
 * Leases for run-once background work (replicas/lease.ts decides, replicas/leases.ts keeps them). Every write is a
 * compare-and-set on the row the caller read: an UPDATE whose WHERE names the holder and expiry it saw, so of two
 * replicas that saw the same expired lease one updates a row and the other none.
 */
import type { Db } from "../db.ts";
import type { LeaseRow } from "../replicas/lease.ts";

export class LeaseRepository {
  constructor(private readonly db: Db) {}

  async read(name: string): Promise<LeaseRow | null> {
    const row = await this.db.lease.findUnique({ where: { name } });
    return row ? { name: row.name, holder: row.holder, expiresAt: row.expiresAt.getTime() } : null;
  }

  async list(): Promise<(LeaseRow & { acquiredAt: number })[]> {
    const rows = await this.db.lease.findMany({ orderBy: { name: "asc" } });
    return rows.map((r) => ({ name: r.name, holder: r.holder, expiresAt: r.expiresAt.getTime(), acquiredAt: r.acquiredAt.getTime() }));
  }

  /**
   * Writes `holder` until `expiresAt` if the row is still `expected` (null: no row yet). Returns the row as it stands
   * afterwards: the caller sees whether it won.
   */
  async compareAndSet(name: string, expected: LeaseRow | null, holder: string, expiresAt: number, now: number): Promise<LeaseRow | null> {
    if (expected === null) {
      // A concurrent insert of the same name fails on the primary key: the re-read shows who won.
      await this.db.lease.create({ data: { name, holder, expiresAt: new Date(expiresAt), acquiredAt: new Date(now) } }).catch(() => undefined);
    } else {
      await this.db.lease.updateMany({
        where: { name, holder: expected.holder, expiresAt: new Date(expected.expiresAt) },
        data: { holder, expiresAt: new Date(expiresAt), ...(expected.holder === holder ? {} : { acquiredAt: new Date(now) }) },
      });
    }
    return this.read(name);
  }

  /** Gives a held lease up (graceful shutdown): it expires now, so another replica takes it at its next attempt. */
  async release(name: string, holder: string, now: number): Promise<void> {
    await this.db.lease.updateMany({ where: { name, holder }, data: { expiresAt: new Date(now) } });
  }
}

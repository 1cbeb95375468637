/**
 * The mesh-wide config version counter: one row, persisted (versions keep increasing across restarts) and shared by
 * every console replica on the database, so versions form one monotonic sequence whichever replica cut them.
 */
import type { Db } from "../db.ts";

const ID = 1;

export class MeshStateRepository {
  constructor(private readonly db: Db) {}

  async currentVersion(): Promise<number> {
    const row = await this.db.meshState.findUnique({ where: { id: ID }, select: { configVersion: true } });
    return row?.configVersion ?? 0;
  }

  /**
   * The version for a topology hashing to `key`: the current one when it was cut from the same key (another replica
   * reading the same database state got there first) and is above `atLeast`, else a new one, max(current, atLeast) + 1.
   * The first statement updates the row, which holds its lock to the commit: replicas cut versions one at a time.
   */
  async versionFor(key: string, atLeast = 0): Promise<{ version: number; cut: boolean }> {
    return this.db.$transaction(
      async (tx) => {
        const row = await tx.meshState.upsert({
          where: { id: ID },
          create: { id: ID, configVersion: 0 },
          update: { configVersion: { increment: 0 } },
        });
        if (row.configKey === key && row.configVersion > atLeast) return { version: row.configVersion, cut: false };
        const next = Math.max(row.configVersion, atLeast) + 1;
        await tx.meshState.update({ where: { id: ID }, data: { configVersion: next, configKey: key } });
        return { version: next, cut: true };
      },
      // Prisma's defaults (2 s to start, 5 s to finish) fail rounds on a loaded machine while other replicas hold the row.
      { maxWait: 10_000, timeout: 20_000 },
    );
  }
}

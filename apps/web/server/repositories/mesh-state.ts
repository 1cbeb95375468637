/** The mesh-wide config version counter (persisted, so versions keep increasing across console restarts). */
import type { Db } from "../db.ts";

const ID = 1;

export class MeshStateRepository {
  constructor(private readonly db: Db) {}

  async currentVersion(): Promise<number> {
    const row = await this.db.meshState.findUnique({ where: { id: ID }, select: { configVersion: true } });
    return row?.configVersion ?? 0;
  }

  /** Next version: max(current, atLeast) + 1, persisted before it is used. */
  async nextVersion(atLeast = 0): Promise<number> {
    const current = await this.currentVersion();
    const next = Math.max(current, atLeast) + 1;
    await this.db.meshState.upsert({
      where: { id: ID },
      create: { id: ID, configVersion: next },
      update: { configVersion: next },
    });
    return next;
  }
}

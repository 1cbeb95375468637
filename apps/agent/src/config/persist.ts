/** `<state-dir>/snapshot.json`: the last good snapshot, written atomically (tmp file + fsync + rename). */
import { existsSync, readFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { MeshSnapshot } from "@trellis/protocol";

export const SNAPSHOT_FILE = "snapshot.json";

let seq = 0;

export async function persistSnapshot(stateDir: string, snapshot: MeshSnapshot): Promise<void> {
  const final = join(stateDir, SNAPSHOT_FILE);
  const tmp = join(stateDir, `.${SNAPSHOT_FILE}.${process.pid}.${++seq}.tmp`);
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(snapshot, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, final);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** The persisted snapshot as raw JSON (validated by the caller), `null` when absent; throws on unreadable JSON. */
export function readPersistedSnapshot(stateDir: string): unknown | null {
  const file = join(stateDir, SNAPSHOT_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8"));
}

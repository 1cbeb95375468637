/**
 * Where the mesh's trust lives on disk, next to the keys it names (the CA rotation's repository): the rotation state
 * in `<data>/ca/trust.json` (written atomically: a console restarted mid-rotation resumes the phase it was in) and
 * one directory per authority — `<data>/ca/` itself for the first root, `<data>/ca/authorities/<id>/` for every
 * authority a rotation added. Directories 0700, keys 0600; nothing here is under a path Next serves.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { TrustState } from "./rotation.ts";

/** The authority created at first start, kept where earlier versions kept the only one. */
export const FIRST_AUTHORITY = "ca";

export class TrustStore {
  readonly caDir: string;

  constructor(dataDir: string) {
    this.caDir = path.join(dataDir, "ca");
  }

  authorityDir(id: string): string {
    if (id === FIRST_AUTHORITY) return this.caDir;
    if (!/^[a-z0-9-]{1,64}$/.test(id)) throw new Error(`bad authority id ${id}`);
    return path.join(this.caDir, "authorities", id);
  }

  /** A fresh id for an authority made now (`root-…` generated here, `plugin-…` from the operator's files). */
  newAuthorityId(kind: "root" | "plugin", now: number): string {
    const stamp = new Date(now)
      .toISOString()
      .replace(/[-:.TZ]/g, "")
      .toLowerCase();
    let id = `${kind}-${stamp}`;
    for (let i = 2; existsSync(this.authorityDir(id)); i++) id = `${kind}-${stamp}-${i}`;
    return id;
  }

  read(): TrustState | null {
    const file = path.join(this.caDir, "trust.json");
    if (!existsSync(file)) return null;
    return JSON.parse(readFileSync(file, "utf8")) as TrustState;
  }

  write(state: TrustState): void {
    mkdirSync(this.caDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.caDir, "trust.json");
    writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    chmodSync(`${file}.tmp`, 0o600);
    renameSync(`${file}.tmp`, file);
  }
}

/**
 * The mesh-wide sampling policy on the real console: each change is a config revision (part `sampling`, no service)
 * in `revisions.list`, stamped with the config version it went out with; `revisions.rollback` reverts only what that
 * revision changed, and a rollback of a field changed again since is a 409 naming the later revision.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { adminCookie, type ConsoleHandle, DATABASES, startConsole, type TestDatabase, testDatabase, trpcQuery } from "@trellis/testkit";

const TOKEN = "history-test-token";
// One body, run once per database (SQLite, PostgreSQL): the state below is reset by each run's before().
let dataDir: string;
let db: TestDatabase;
let consoleProc: ConsoleHandle;

interface Revision {
  id: number;
  part: string;
  service: string | null;
  kind: string;
  diff: string[];
  configVersion: number;
  rollbackOf: number | null;
}
interface Policy {
  sampleRate: number;
  slowThresholdMs: number;
  slowThresholdMsByService: Record<string, number>;
}

/** The revision a change answered with. */
function revisionOf(r: { body: { result?: { data: unknown } } }): Revision {
  const revision = (r.body.result?.data as { revision?: Revision } | undefined)?.revision;
  assert.ok(revision, JSON.stringify(r.body));
  return revision;
}

/** POSTs a tRPC mutation as the admin; resolves with the HTTP status and the body. */
async function mutate(name: string, input: unknown): Promise<{ status: number; body: { result?: { data: unknown }; error?: { message: string } } }> {
  const res = await fetch(`${consoleProc.url}/api/trpc/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: await adminCookie(consoleProc.url), "x-trellis-csrf": "1" },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: (await res.json()) as never };
}

for (const kind of DATABASES)
  describe(`sampling policy history (${kind})`, () => {
    before(async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), "trellis-history-"));
      db = await testDatabase(kind);
      consoleProc = await startConsole({ dataDir, token: TOKEN, env: db.env });
    });
    after(async () => {
      await consoleProc?.proc.stop();
      await db?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("a change is a mesh-wide revision; rollback reverts only its fields; a conflicting one is a 409 naming the later revision", async () => {
      const rate = await mutate("telemetry.setPolicy", { sampleRate: 0.5, slowThresholdMs: 1000, slowThresholdMsByService: {} });
      assert.equal(rate.status, 200, JSON.stringify(rate.body));
      const rateRev = revisionOf(rate);
      assert.equal(rateRev.part, "sampling");
      assert.equal(rateRev.service, null);
      assert.deepEqual(rateRev.diff, ["~ sampleRate: 0.01 → 0.5"]);
      const listed = (await trpcQuery<Revision[]>(consoleProc.url, "revisions.list", {})).find((r) => r.id === rateRev.id);
      assert.ok(listed && listed.configVersion > 0, "listed, stamped with its config version");

      const slow = await mutate("telemetry.setPolicy", { sampleRate: 0.5, slowThresholdMs: 700, slowThresholdMsByService: {} });
      const slowRev = revisionOf(slow);

      const back = await mutate("revisions.rollback", { id: rateRev.id });
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.deepEqual(revisionOf(back).diff, ["~ sampleRate: 0.5 → 0.01"]);
      const policy = await trpcQuery<Policy>(consoleProc.url, "telemetry.policy");
      assert.deepEqual(policy, { sampleRate: 0.01, slowThresholdMs: 700, slowThresholdMsByService: {} }, "the later threshold stays");

      const again = await mutate("telemetry.setPolicy", { sampleRate: 0.01, slowThresholdMs: 900, slowThresholdMsByService: {} });
      const againRev = revisionOf(again);
      const refused = await mutate("revisions.rollback", { id: slowRev.id });
      assert.equal(refused.status, 409);
      assert.match(refused.body.error?.message ?? "", new RegExp(`revision ${againRev.id} changed slowThresholdMs`));
    });
  });

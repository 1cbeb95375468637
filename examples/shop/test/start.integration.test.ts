/**
 * `npm start` (scripts/start.mts) as a user runs it: console + shop come up, the loadgen succeeds, SIGTERM stops
 * everything within ~3 s with exit 0 and no process left, and a second start on the same data dir works.
 * Runs with --no-build: `npm test` has just built everything.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { spawnNode } from "@trellis/testkit";
import { agentCli, allPids, cleanup, isAlive, readPorts, repoRoot, tempDir, track } from "./support.ts";

describe("npm start (scripts/start.mts)", () => {
  const dataDir = tempDir("start");
  after(cleanup);

  async function startOnce(round: number) {
    const p = spawnNode(`start#${round}`, ["--import", "tsx", path.join(repoRoot, "scripts/start.mts"), "--no-build"], {
      cwd: repoRoot,
      env: { PORT: "0", TRELLIS_DATA_DIR: dataDir, SHOP_RPS: "50", TRELLIS_JOIN_TOKEN: "" },
    });
    await p.waitFor((l) => l.msg === "shop ready", 120_000, "shop ready");
    const ports = readPorts(path.join(dataDir, "shop"));
    track(allPids(ports));
    return { p, ports };
  }

  test("starts console and shop, serves traffic, stops cleanly; a second start works", async () => {
    assert.ok(fs.existsSync(agentCli), "the agent is not built");
    for (const round of [1, 2]) {
      const { p, ports } = await startOnce(round);
      assert.ok(
        ports.instances.every((i) => i.ready),
        `round ${round}: every agent has a snapshot`,
      );
      const summary = await p.waitFor((l) => l.msg === "loadgen summary", 20_000, "a loadgen summary line");
      assert.ok((summary.success_pct as number) >= 95, `round ${round}: ${JSON.stringify(summary)}`);
      assert.ok(
        p.output.some((l) => l.includes("Trellis console: http://127.0.0.1:")),
        "prints the console URL",
      );
      const pids = allPids(ports);
      // Past 3.5 s the process group is SIGKILLed and the exit code is no longer 0.
      const exit = await p.stop("SIGTERM", 3_500);
      assert.equal(exit.code, 0, `round ${round}: exit ${JSON.stringify(exit)}\n${p.output.slice(-20).join("\n")}`);
      assert.deepEqual(pids.filter(isAlive), [], `round ${round}: no shop process left`);
      const url = /console listening at (http:\/\/\S+)/.exec(p.output.join("\n"))?.[1];
      assert.ok(url, "console URL printed");
      await assert.rejects(fetch(url), "the console is down too");
    }
    assert.ok(fs.existsSync(path.join(dataDir, "join-token")), "data kept");
  });
});

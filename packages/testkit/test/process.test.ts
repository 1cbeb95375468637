import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { FakeAgent, isAlive, run, spawnNode, stopAll } from "../src/index.ts";

after(() => stopAll());

const node = (name: string, code: string) => spawnNode(name, ["-e", code]);

describe("process groups", () => {
  test("waitFor resolves with the first matching JSON line, past or future, from either stream", async () => {
    const p = node(
      "printer",
      `console.log("plain"); console.error(JSON.stringify({ msg: "a", n: 1 })); setTimeout(() => console.log(JSON.stringify({ msg: "b" })), 50); setInterval(() => {}, 1000);`,
    );
    assert.equal((await p.waitFor((l) => l.msg === "b", 5_000, "b")).msg, "b");
    assert.equal((await p.waitFor((l) => l.msg === "a", 5_000, "a")).n, 1, "an earlier line is found too");
    assert.ok(p.output.includes("plain"));
    const e = await p.stop("SIGTERM", 2_000);
    assert.equal(e.signal, "SIGTERM");
  });

  test("waitFor fails as soon as the process exits, with its last output", async () => {
    const p = node("quitter", `console.log("about to go"); process.exit(3);`);
    const t0 = Date.now();
    await assert.rejects(
      p.waitFor((l) => l.msg === "never", 10_000, "never"),
      (e: Error) => {
        assert.match(e.message, /quitter exited \(exit code 3\) waiting for never/);
        assert.match(e.message, /about to go/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 5_000, "did not wait for the timeout");
  });

  test("waitFor is bounded", async () => {
    const p = node("silent", `setInterval(() => {}, 1000);`);
    await assert.rejects(
      p.waitFor(() => false, 200, "nothing"),
      /timed out after 200 ms waiting for nothing/,
    );
    await p.stop();
  });

  test("stop kills the whole group, SIGKILL after the grace for what ignores SIGTERM", async () => {
    const p = node(
      "parent",
      `const c = require("node:child_process").spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
       process.on("SIGTERM", () => {});
       console.log(JSON.stringify({ msg: "up", child: c.pid }));
       setInterval(() => {}, 1000);`,
    );
    const child = Number((await p.waitFor((l) => l.msg === "up", 5_000, "up")).child);
    assert.ok(isAlive(child));
    const e = await p.stop("SIGTERM", 300);
    assert.equal(e.signal, "SIGKILL");
    assert.ok(e.ms >= 250 && e.ms < 3_000, `stopped after the grace (${e.ms} ms)`);
    for (let i = 0; i < 50 && isAlive(child); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(isAlive(child), false, "the grandchild is gone too");
  });

  test("run resolves with stdout, rejects with stderr on failure", async () => {
    assert.equal(await run(process.execPath, ["-e", `console.log("out")`]), "out\n");
    await assert.rejects(run(process.execPath, ["-e", `console.error("bad"); process.exit(2)`]), /exited 2: bad/);
  });
});

describe("FakeAgent", () => {
  test("refuses to send an object that is not a valid agent frame", () => {
    const a = new FakeAgent("ws://127.0.0.1:1", { service: "svc", token: "t" });
    assert.throws(() => a.send({ type: "ack", version: -1, nonce: "" }), /not a valid agent frame/);
    assert.match(a.instanceId, /^svc-v1-/);
    assert.equal(a.hello.type, "hello");
  });
});

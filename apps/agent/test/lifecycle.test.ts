/** Start from the persisted snapshot alone, ports.json, clean and quick shutdown. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { tempDir } from "@trellis/testkit";
import { cleanup, closedPort, getText, request, snapshot, startAgent, startApp } from "./helpers.ts";

after(cleanup);

test("an agent started with only a state dir (console unreachable) serves traffic from the persisted snapshot", async () => {
  const catalog = await startApp("catalog");
  const self = await startApp("self");
  const deadConsole = await closedPort();
  const agent = await startAgent({
    service: "shop",
    appPort: self.port,
    snapshot: snapshot(
      "shop",
      [{ name: "catalog", versions: ["v1"], endpoints: [{ address: `127.0.0.1:${catalog.port}`, version: "v1", instanceId: "c" }] }],
      42,
    ),
    args: ["--console", `ws://127.0.0.1:${deadConsole}/ws/agents`],
  });
  assert.equal((await getText(agent.admin, "/ready")).status, 200);
  const cfg = JSON.parse((await getText(agent.admin, "/config")).text);
  assert.equal(cfg.version, 42);
  assert.equal(typeof cfg.appliedAt, "string");
  assert.equal(cfg.snapshot.services[0].name, "catalog");
  const r = await request({ port: agent.outbound, path: "http://catalog/items" });
  assert.equal(r.status, 200);
  assert.equal(r.headers["x-app"], "catalog");
  const inb = await request({ port: agent.inbound, path: "/", headers: { host: "shop" } });
  assert.equal(inb.headers["x-app"], "self");

  const ports = JSON.parse(readFileSync(join(agent.stateDir, "ports.json"), "utf8"));
  assert.equal(ports.msg, "agent listening");
  assert.deepEqual([ports.inbound, ports.outbound, ports.admin], [agent.inbound, agent.outbound, agent.admin]);
  await agent.waitForLine((l) => l.msg === "console unreachable", 3_000, "console unreachable log");

  // SIGTERM: exit 0 within 2 s (stop() fails past its bound), even with an idle keep-alive connection open.
  const code = await agent.stop(2_000);
  assert.equal(code, 0);
});

test("a snapshot that asks for mTLS keeps /ready at 503 until the agent holds a certificate (console unreachable: none)", async () => {
  const self = await startApp("self");
  const deadConsole = await closedPort();
  const agent = await startAgent({
    service: "shop",
    appPort: self.port,
    snapshot: snapshot("shop", [{ name: "shop", versions: ["v1"], endpoints: [], mtls: "PERMISSIVE" }], 5),
    args: ["--console", `ws://127.0.0.1:${deadConsole}/ws/agents`],
  });
  const ready = await getText(agent.admin, "/ready");
  assert.equal(ready.status, 503);
  assert.match(ready.text, /no workload certificate/);
  // The snapshot is applied all the same: readiness is what waits, not the config.
  assert.equal(JSON.parse((await getText(agent.admin, "/config")).text).version, 5);
});

test("an invalid persisted snapshot is ignored (not ready), not fatal", async () => {
  const app = await startApp("app");
  const agent = await startAgent({ service: "shop", appPort: app.port, snapshot: snapshot("other", [], 1) });
  assert.equal((await getText(agent.admin, "/ready")).status, 503);
  await agent.waitForLine((l) => l.msg === "ignoring persisted snapshot", 1_000);
});

/** Makes `dir` unwritable even for root (`chattr +i`), else by mode; returns the undo. */
function readOnly(dir: string): () => void {
  if (spawnSync("chattr", ["+i", dir], { stdio: "ignore" }).status === 0) return () => spawnSync("chattr", ["-i", dir], { stdio: "ignore" });
  chmodSync(dir, 0o555);
  return () => chmodSync(dir, 0o755);
}

test("regression (chaos run): a read-only state dir does not keep the agent from starting and serving its persisted snapshot", async () => {
  const catalog = await startApp("catalog");
  const self = await startApp("self");
  const stateDir = tempDir("agent-readonly");
  const snap = snapshot(
    "shop",
    [{ name: "catalog", versions: ["v1"], endpoints: [{ address: `127.0.0.1:${catalog.port}`, version: "v1", instanceId: "c" }] }],
    7,
  );
  writeFileSync(join(stateDir, "snapshot.json"), JSON.stringify(snap));
  const undo = readOnly(stateDir);
  try {
    const agent = await startAgent({ service: "shop", appPort: self.port, stateDir, instanceId: "shop-1" });
    assert.equal((await getText(agent.admin, "/ready")).status, 200);
    const r = await request({ port: agent.outbound, path: "http://catalog/items" });
    assert.equal(r.headers["x-app"], "catalog");
    await agent.waitForLine((l) => l.msg === "could not write the ports file", 2_000);
    await agent.stop(2_000);
  } finally {
    undo();
  }
});

/**
 * The agent hub in-process (real SQLite through the repositories, real websockets) with short timeouts, for the
 * behaviours that are slow to observe against the full console: hello timeout, heartbeat, in-flight/newest-wins,
 * NACK state, the invalid-frame limit.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { endpointsOf, FakeAgent } from "@trellis/testkit";
import WebSocket from "ws";
import { ControlPlane } from "../server/control-plane/index.ts";
import { closeDb, openDb } from "../server/db.ts";
import { createLogger } from "../server/log.ts";
import { applyMigrations } from "../server/migrate.ts";
import { createRepositories, type Repositories } from "../server/repositories/index.ts";
import { TelemetryStore } from "../server/telemetry-store.ts";

const TOKEN = "hub-test-token";
const dataDir = mkdtempSync(path.join(os.tmpdir(), "trellis-hub-"));
const quiet = {
  ...createLogger(),
  info() {},
  warn() {},
  debug() {},
  child() {
    return quiet;
  },
};
let server: http.Server;
let hub: ControlPlane;
let repos: Repositories;
let base: string;
const open: FakeAgent[] = [];

before(async () => {
  const databaseUrl = `file:${path.join(dataDir, "trellis.db")}`;
  await applyMigrations({ dataDir, databaseUrl, log: quiet });
  repos = createRepositories(await openDb(databaseUrl));
  hub = new ControlPlane({
    repos,
    store: new TelemetryStore(),
    joinToken: TOKEN,
    log: quiet,
    options: { helloTimeoutMs: 300, heartbeatMs: 150, ackTimeoutMs: 60_000, maxInvalidFrames: 5 },
  });
  await hub.start();
  server = http.createServer();
  server.on("upgrade", (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const a of open) a.close();
  await hub.close();
  server.closeAllConnections();
  server.close();
  await closeDb();
  rmSync(dataDir, { recursive: true, force: true });
});

function agent(service: string, extra: Partial<ConstructorParameters<typeof FakeAgent>[1]> = {}) {
  const a = new FakeAgent(base, { service, token: TOKEN, address: `127.0.0.1:${7000 + open.length}`, ...extra });
  open.push(a);
  return a;
}

describe("agent hub", { concurrency: false }, () => {
  test("no hello within the timeout: fatal error frame, close 4008", async () => {
    const a = agent("silent");
    await a.connect(false);
    const err = await a.next((f) => f.type === "error", 2_000);
    assert.equal(err.code, "hello-timeout");
    assert.equal(await a.closed(), 4008);
  });

  test("a frame other than hello first: fatal, close 4002", async () => {
    const a = agent("eager");
    await a.connect(false);
    a.send({ type: "ack", version: 1, nonce: "x" });
    assert.equal((await a.next((f) => f.type === "error")).code, "hello-required");
    assert.equal(await a.closed(), 4002);
  });

  test("at most one un-acked snapshot in flight; the newest is sent when the ack arrives; NACK is recorded", async () => {
    const slow = agent("slow", { autoAck: false, instanceId: "slow-1" });
    await slow.connect();
    const first = await slow.nextSnapshot();
    // Two more agents join while `slow` sits on its snapshot: no second snapshot may reach it yet.
    const x = agent("x-svc");
    await x.connect();
    await x.nextSnapshot();
    const y = agent("y-svc");
    await y.connect();
    await y.nextSnapshot((s) => endpointsOf(s, "y-svc").length === 1);
    await x.nextSnapshot((s) => endpointsOf(s, "y-svc").length === 1);
    assert.equal(slow.frames.filter((f) => f.type === "snapshot").length, 1, "only one snapshot in flight");
    const info = hub.sessionsInfo().find((s) => s.instanceId === "slow-1")!;
    assert.equal(info.syncState, "STALE");
    assert.equal(info.pending, true);

    // NACK the in-flight one: recorded, and the newest (with x and y) follows at once.
    slow.send({ type: "nack", version: first.version, nonce: first.nonce, error: "cannot apply: test" });
    const newest = await slow.nextSnapshot();
    assert.ok(newest.version > first.version);
    assert.deepEqual(endpointsOf(newest.snapshot, "y-svc").length, 1);
    // The newer snapshot is in flight (STALE); the NACK's error stays visible until an ack. Sync states reach the
    // database in batches (syncFlushMs), so wait for the row to catch up with the hub.
    let row = (await repos.instances.list()).find((r) => r.instanceId === "slow-1")!;
    for (let i = 0; i < 50 && row.sentVersion !== newest.version; i++) {
      await new Promise((r) => setTimeout(r, 20));
      row = (await repos.instances.list()).find((r) => r.instanceId === "slow-1")!;
    }
    assert.equal(row.sentVersion, newest.version);
    assert.equal(row.syncState, "STALE");
    assert.match(row.syncError ?? "", /cannot apply: test/);

    // An ack with a wrong nonce is ignored; the right one syncs.
    slow.send({ type: "ack", version: newest.version, nonce: "not-the-nonce" });
    slow.send({ type: "ack", version: newest.version, nonce: newest.nonce });
    for (let i = 0; i < 50 && hub.sessionsInfo().find((s) => s.instanceId === "slow-1")!.syncState !== "SYNCED"; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(hub.sessionsInfo().find((s) => s.instanceId === "slow-1")!.syncState, "SYNCED");
    assert.equal(hub.sessionsInfo().find((s) => s.instanceId === "slow-1")!.ackedVersion, newest.version);

    // A NACK with nothing newer pending leaves the agent NACKED (persisted, with the error) on its last good version.
    const z = agent("z-svc");
    await z.connect();
    const next = await slow.nextSnapshot((s) => endpointsOf(s, "z-svc").length === 1);
    slow.send({ type: "nack", version: next.version, nonce: next.nonce, error: "bad route" });
    let nacked: Awaited<ReturnType<Repositories["instances"]["list"]>>[number] | undefined;
    for (let i = 0; i < 50; i++) {
      nacked = (await repos.instances.list()).find((r) => r.instanceId === "slow-1")!;
      if (nacked.syncState === "NACKED") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(nacked!.syncState, "NACKED");
    assert.equal(nacked!.syncError, `v${next.version}: bad route`);
    assert.equal(nacked!.ackedVersion, newest.version);
    assert.equal(nacked!.sentVersion, next.version);
  });

  test("a config version's snapshots are built once, not once per agent or per service", async () => {
    const a1 = agent("same-svc", { instanceId: "same-1" });
    await a1.connect();
    // Welcomed with the current version at once; then the round that carries its own endpoint.
    await a1.nextSnapshot((s) => endpointsOf(s, "same-svc").length === 1);
    const builtBefore = hub.snapshotBuilds;
    const a2 = agent("same-svc", { instanceId: "same-2" });
    await a2.connect();
    const s2 = await a2.nextSnapshot((s) => endpointsOf(s, "same-svc").length === 2);
    const s1 = await a1.nextSnapshot((s) => endpointsOf(s, "same-svc").length === 2);
    assert.equal(s1.version, s2.version);
    assert.notEqual(s1.nonce, s2.nonce, "each agent gets its own nonce");
    assert.deepEqual(s1.snapshot, s2.snapshot, "the same snapshot, down to issuedAt");
    const sentThisVersion = hub.sessionsInfo().filter((r) => r.sentVersion === s1.version);
    assert.ok(new Set(sentThisVersion.map((r) => r.service)).size > 1, "agents of several services were sent this version");
    assert.equal(hub.snapshotBuilds - builtBefore, 1, "one build for the new version");
  });

  test("too many invalid frames close the socket with 4002; each one before that gets a non-fatal error", async () => {
    const a = agent("noisy");
    await a.connect();
    await a.nextSnapshot();
    for (let i = 0; i < 4; i++) {
      a.send(`garbage ${i}`);
      const e = await a.next((f) => f.type === "error");
      assert.equal(e.fatal, false);
    }
    a.send("garbage 5");
    const fatal = await a.next((f) => f.type === "error");
    assert.equal(fatal.code, "too-many-invalid-frames");
    assert.equal(fatal.fatal, true);
    assert.equal(await a.closed(), 4002);
  });

  test("a socket that stops answering pings is terminated within ~2 heartbeats and its endpoint withdrawn", async () => {
    const watcher = agent("watcher");
    await watcher.connect();
    await watcher.nextSnapshot();
    const deaf = new WebSocket(`${base}/ws/agents`, { autoPong: false });
    await new Promise((r) => deaf.once("open", r));
    const hello = agent("deaf", { instanceId: "deaf-1", address: "127.0.0.1:7999" }).hello;
    deaf.send(JSON.stringify({ ...hello, instanceId: "deaf-1" }));
    deaf.on("message", (m) => {
      const f = JSON.parse(String(m));
      if (f.type === "snapshot") deaf.send(JSON.stringify({ type: "ack", version: f.version, nonce: f.nonce }));
    });
    await watcher.nextSnapshot((s) => endpointsOf(s, "deaf").includes("127.0.0.1:7999"));
    // heartbeatMs is 150 here: two missed pongs must cut the socket well within 1.5 s.
    const code = await Promise.race([
      new Promise<number>((r) => deaf.once("close", (c) => r(c))),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("deaf socket not terminated within 1.5 s")), 1_500)),
    ]);
    assert.equal(code, 1006, "terminated, not closed politely");
    await watcher.nextSnapshot((s) => endpointsOf(s, "deaf").length === 0);
    const row = (await repos.instances.list()).find((r) => r.instanceId === "deaf-1")!;
    assert.equal(row.connected, false);
  });

  test("a second connection with the same instance id replaces the first (close 4009) without withdrawing the endpoint", async () => {
    const watcher = agent("watcher2");
    await watcher.connect();
    await watcher.nextSnapshot();
    const a1 = agent("dup", { instanceId: "dup-1", address: "127.0.0.1:7555" });
    await a1.connect();
    await watcher.nextSnapshot((s) => endpointsOf(s, "dup").includes("127.0.0.1:7555"));
    const a2 = agent("dup", { instanceId: "dup-1", address: "127.0.0.1:7555" });
    await a2.connect();
    assert.equal(await a1.closed(), 4009);
    await a2.nextSnapshot();
    const row = (await repos.instances.list()).find((r) => r.instanceId === "dup-1")!;
    assert.equal(row.connected, true);
  });
});

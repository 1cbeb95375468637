/**
 * A burst of agents joining one control plane at once (in-process hub, real websockets, each database kind): the
 * batched token checks and registrations keep every semantic of one-by-one admission — the token and its scope
 * checked per agent, one instance row per agent with its own fields, a certificate per agent, a first snapshot — and
 * a rejoin burst updates the same rows, also when a batch conflicts and falls back to one-by-one registration.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { HelloFrame } from "@trellis/protocol";
import { createCsr, DATABASES, FakeAgent, tempDir } from "@trellis/testkit";
import { ControlPlane } from "../server/control-plane/index.ts";
import { hashToken, tokenPrefix } from "../server/join-token.ts";
import { createLogger } from "../server/log.ts";
import type { Repositories } from "../server/repositories/index.ts";
import { MeshTrust } from "../server/security/mesh-trust.ts";
import { TelemetryStore } from "../server/telemetry-store.ts";
import { type MigratedDb, openMigratedDb } from "./support/migrated-db.ts";

const TOKEN = "burst-test-token";
const SCOPED = "burst-scoped-token";
const quiet = {
  ...createLogger(),
  info() {},
  warn() {},
  debug() {},
  child() {
    return quiet;
  },
};
const AGENTS = 90;
const SERVICES = 30;
const versionOf = (i: number) => (Math.floor(i / SERVICES) % 2 ? "v2" : "v1");

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
}

for (const kind of DATABASES)
  describe(`a burst of agents joining (${kind})`, { concurrency: false }, () => {
    let db: MigratedDb;
    let repos: Repositories;
    let hub: ControlPlane;
    let server: http.Server;
    let base: string;
    /** Sizes of the registration batches written, and whether the next one fails (to force the fallback). */
    const batches: number[] = [];
    let failNextBatch = false;
    /** While set, the first token lookup waits until this many more hellos queue behind it (a database busy with one
     * batch while the burst arrives; without it a fast in-process database may admit each hello alone). */
    let holdTokenLookupFor = 0;
    const csrs: string[] = [];
    const open: FakeAgent[] = [];

    before(async () => {
      db = await openMigratedDb(kind, quiet);
      repos = db.repos;
      const registerHellos = repos.instances.registerHellos.bind(repos.instances);
      repos.instances.registerHellos = async (hellos: HelloFrame[], now: Date, replicaId: string) => {
        batches.push(hellos.length);
        if (failNextBatch) {
          failNextBatch = false;
          throw new Error("forced conflict");
        }
        return registerHellos(hellos, now, replicaId);
      };
      const verifyMany = repos.joinTokens.verifyMany.bind(repos.joinTokens);
      repos.joinTokens.verifyMany = async (hashes: string[]) => {
        const wanted = holdTokenLookupFor;
        holdTokenLookupFor = 0;
        if (wanted > 0) await until(() => hub.admissionStats().waitingTokenChecks >= wanted, 20_000, `${wanted} hellos queued`);
        return verifyMany(hashes);
      };
      await repos.joinTokens.create("scoped", hashToken(SCOPED), tokenPrefix(SCOPED), "test", ["svc-0"]);
      const { trust } = await MeshTrust.open(tempDir("burst-trust"), "trellis.local", 3600, quiet);
      // A long hello timeout: the burst is held behind one token lookup on purpose, on a machine that may be busy.
      hub = new ControlPlane({ repos, store: new TelemetryStore(), joinToken: TOKEN, trust, log: quiet, options: { helloTimeoutMs: 120_000 } });
      await hub.start();
      server = http.createServer();
      server.on("upgrade", (req, socket, head) => hub.handleUpgrade(req, socket, head));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (let i = 0; i < SERVICES; i++) csrs.push(await createCsr(`svc-${i}`));
    });

    after(async () => {
      for (const a of open) a.close();
      await hub?.close();
      server?.closeAllConnections();
      server?.close();
      await db?.close();
    });

    /** Agent i of the fleet: service svc-(i mod SERVICES), two versions, its own address. */
    function fleetAgent(i: number, opts: { port?: number; configVersion?: number } = {}) {
      const s = i % SERVICES;
      const a = new FakeAgent(base, {
        service: `svc-${s}`,
        version: versionOf(i),
        instanceId: `burst-${i}`,
        address: `127.0.0.1:${opts.port ?? 30000 + i}`,
        token: TOKEN,
        csr: csrs[s],
        configVersion: opts.configVersion ?? 0,
      });
      open.push(a);
      return a;
    }

    /** Connects them all at once; resolves when each holds its certificate and its first snapshot. */
    async function joinAll(agents: FakeAgent[]): Promise<void> {
      await Promise.all(agents.map((a) => a.connect()));
      // In whichever order they come (the frames are recorded; `next` would consume past an earlier snapshot).
      const holds = (a: FakeAgent) =>
        a.frames.some((f) => f.type === "certificate") && a.frames.some((f) => f.type === "snapshot" && !f.snapshotError);
      await until(() => agents.every(holds), 30_000, "every agent certified with a snapshot");
      for (const a of agents) {
        const cert = a.frames.find((f) => f.type === "certificate")!;
        assert.equal(cert.spiffeId, `spiffe://trellis.local/service/${a.opts.service}`);
      }
    }

    test("every agent is checked, registered with its own row, certified and sent a snapshot; writes are batched", async () => {
      const fleet = Array.from({ length: AGENTS }, (_, i) => fleetAgent(i));
      const intruders = [0, 1, 2].map(
        (i) => new FakeAgent(base, { service: `svc-${i}`, instanceId: `intruder-${i}`, token: "not-a-token", address: `127.0.0.1:${40000 + i}` }),
      );
      const outOfScope = new FakeAgent(base, { service: "svc-1", instanceId: "scoped-out", token: SCOPED, address: "127.0.0.1:40100" });
      const inScope = new FakeAgent(base, { service: "svc-0", instanceId: "scoped-in", token: SCOPED, address: "127.0.0.1:40101", csr: csrs[0] });
      open.push(...intruders, outOfScope, inScope);
      holdTokenLookupFor = AGENTS;
      await Promise.all([joinAll([...fleet, inScope]), ...intruders.map((a) => a.connect()), outOfScope.connect()]);
      for (const a of intruders) assert.equal(await a.closed(5_000), 4001);
      assert.equal(await outOfScope.closed(5_000), 4004);

      const rows = await repos.instances.list({ limit: 1000 });
      assert.equal(rows.length, AGENTS + 1, "one row per admitted agent, none for the refused");
      for (let i = 0; i < AGENTS; i++) {
        const r = rows.find((x) => x.instanceId === `burst-${i}`);
        assert.ok(r, `burst-${i} registered`);
        assert.equal(r.service, `svc-${i % SERVICES}`);
        assert.equal(r.version, versionOf(i));
        assert.equal(r.address, `127.0.0.1:${30000 + i}`);
        assert.deepEqual(r.ports, { inbound: 1, outbound: 2, admin: 3, app: 4 });
        assert.equal(r.connected, true);
      }
      assert.ok(!rows.some((r) => r.instanceId.startsWith("intruder") || r.instanceId === "scoped-out"));
      const services = await repos.services.summaries();
      assert.equal(services.length, SERVICES);
      for (const s of services) assert.deepEqual(s.versions.map((v) => v.version).sort(), ["v1", "v2"]);
      assert.equal(hub.connectedCount, AGENTS + 1);
      assert.equal(
        batches.reduce((a, b) => a + b, 0),
        AGENTS + 1,
      );
      assert.ok(Math.max(...batches) >= AGENTS / 2, `hellos that waited were registered together (batches: ${batches.join(",")})`);
      const stats = hub.admissionStats();
      assert.ok(stats.tokenCheckBatches <= 5, `token checks were batched (${stats.tokenCheckBatches} lookups)`);
      assert.equal(stats.registrationBatches, batches.length);
      const tokens = await repos.joinTokens.list();
      assert.match(tokens.find((t) => t.name === "bootstrap")?.lastUsedBy ?? "", /^svc-\d+\/burst-\d+$/);
      assert.equal(tokens.find((t) => t.name === "scoped")?.lastUsedBy, "svc-0/scoped-in");
    });

    test("the fleet rejoins at once (a batch conflicting falls back one by one): the same rows, updated", async () => {
      const held = hub.currentVersion;
      for (const a of open) a.close();
      open.splice(0);
      await until(() => hub.connectedCount === 0, 30_000, "every agent gone");
      batches.splice(0);
      failNextBatch = true;
      const fleet = Array.from({ length: AGENTS }, (_, i) => fleetAgent(i, { port: 50000 + i, configVersion: held }));
      await joinAll(fleet);
      assert.ok(batches.length >= 2, "a failed batch, then the rest");
      const rows = await repos.instances.list({ limit: 1000 });
      assert.equal(rows.filter((r) => r.instanceId.startsWith("burst-")).length, AGENTS);
      for (let i = 0; i < AGENTS; i++) {
        const r = rows.find((x) => x.instanceId === `burst-${i}`)!;
        assert.equal(r.address, `127.0.0.1:${50000 + i}`, `burst-${i}'s new address`);
        assert.equal(r.connected, true);
      }
      assert.ok(hub.currentVersion > held, "versions keep rising above what the agents held");
    });

    test("the fleet comes back where it was: every known row is reconnected by the grouped update", async () => {
      const held = hub.currentVersion;
      for (const a of open) a.close();
      open.splice(0);
      await until(() => hub.connectedCount === 0, 30_000, "every agent gone");
      await until(async () => (await repos.instances.countConnected()) === 0, 30_000, "every row marked disconnected");
      const before = new Map((await repos.instances.list({ limit: 1000 })).map((r) => [r.instanceId, r]));
      batches.splice(0);
      const fleet = Array.from({ length: AGENTS }, (_, i) => fleetAgent(i, { port: 50000 + i, configVersion: held }));
      await joinAll(fleet);
      const rows = await repos.instances.list({ limit: 1000 });
      assert.equal(rows.filter((r) => r.instanceId.startsWith("burst-")).length, AGENTS, "no row added");
      for (let i = 0; i < AGENTS; i++) {
        const r = rows.find((x) => x.instanceId === `burst-${i}`)!;
        const was = before.get(r.instanceId)!;
        assert.equal(r.connected, true, `burst-${i} connected again`);
        assert.ok(r.lastSeen > was.lastSeen, `burst-${i}'s lastSeen moved on`);
        assert.equal(r.firstSeen, was.firstSeen);
        assert.equal(r.address, `127.0.0.1:${50000 + i}`);
        assert.equal(r.version, versionOf(i));
      }
      assert.equal(await repos.instances.countConnected(), AGENTS);
    });
  });

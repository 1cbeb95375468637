/**
 * Integration: the real console process (built Next app, migrations, hubs) and agents speaking the protocol over
 * real websockets. Requires `npm run build -w @trellis/web` first.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { emptyHistogram, observe } from "@trellis/protocol";
import {
  adminCookie,
  type ConsoleHandle,
  DATABASES,
  endpointsOf,
  eventually,
  FakeAgent,
  startConsole,
  type TestDatabase,
  testDatabase,
  trpcQuery,
} from "@trellis/testkit";
import WebSocket from "ws";
import type { LiveGraph } from "../shared/live-types.ts";

const TOKEN = "integration-token-7f3a9c";
// One body, run once per database (SQLite, PostgreSQL): the state below is reset by each run's before().
let dataDir: string;
let db: TestDatabase;
let consoleProc: ConsoleHandle;
const agents: FakeAgent[] = [];

function agent(service: string, version: string, address: string, extra: Partial<ConstructorParameters<typeof FakeAgent>[1]> = {}) {
  const a = new FakeAgent(consoleProc.wsUrl, { service, version, address, token: TOKEN, ...extra });
  agents.push(a);
  return a;
}

for (const kind of DATABASES)
  describe(`console (${kind})`, { concurrency: false }, () => {
    before(async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), "trellis-web-it-"));
      db = await testDatabase(kind);
      consoleProc = await startConsole({ dataDir, token: TOKEN, env: db.env });
    });

    after(async () => {
      for (const a of agents.splice(0)) a.close();
      await consoleProc?.proc.stop("SIGKILL");
      await db?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    let catalog: FakeAgent;
    let payments: FakeAgent;

    test("a hello with a bad token is refused with a fatal error frame and close 4001, token never logged", async () => {
      const bad = agent("intruder", "v1", "127.0.0.1:9", { token: "wrong-token-value" });
      await bad.connect();
      const err = await bad.next((f) => f.type === "error", 5_000, "error frame");
      assert.equal(err.code, "unauthorized");
      assert.equal(err.fatal, true);
      assert.equal(await bad.closed(), 4001);
      await eventually(async () => consoleProc.proc.output.some((l) => l.includes("invalid join token")), 3_000, "rejection log");
      assert.ok(!consoleProc.proc.output.some((l) => l.includes("wrong-token-value") || l.includes(TOKEN)), "a token was logged");
    });

    test("a valid hello gets a snapshot with itself; the ack marks it SYNCED", async () => {
      catalog = agent("catalog", "v1", "127.0.0.1:7001", { instanceId: "catalog-1" });
      await catalog.connect();
      const snap = await catalog.nextSnapshot((s) => endpointsOf(s, "catalog").includes("127.0.0.1:7001"));
      assert.equal(snap.snapshot.service, "catalog");
      assert.equal(snap.snapshot.version, snap.version);
      assert.ok(snap.version > 0);
      const agentsList = await eventually(
        async () => {
          const r = await trpcQuery<{ agents: { instanceId: string; syncState: string; ackedVersion: number; connected: boolean }[] }>(
            consoleProc.url,
            "agents.list",
          );
          const a = r.agents.find((x) => x.instanceId === "catalog-1");
          return a && a.syncState === "SYNCED" && a.ackedVersion === snap.version ? a : null;
        },
        3_000,
        "catalog SYNCED",
      );
      assert.equal(agentsList.connected, true);
    });

    test("a second agent joining pushes a new snapshot to the first; the newcomer sees both", async () => {
      const first = catalog.frames.filter((f) => f.type === "snapshot").at(-1)!.version as number;
      payments = agent("payments", "v1", "127.0.0.1:7002", { instanceId: "payments-1" });
      await payments.connect();
      const own = await payments.nextSnapshot((s) => endpointsOf(s, "payments").length === 1);
      assert.deepEqual(endpointsOf(own.snapshot, "catalog"), ["127.0.0.1:7001"]);
      const pushed = await catalog.nextSnapshot((s) => endpointsOf(s, "payments").includes("127.0.0.1:7002"));
      assert.ok(pushed.version > first, "config version increases");
    });

    test("an invalid frame gets a non-fatal error frame; another agent keeps receiving snapshots", async () => {
      catalog.send("{ this is not json");
      const e1 = await catalog.next((f) => f.type === "error", 3_000, "error frame");
      assert.equal(e1.fatal, false);
      catalog.send(JSON.stringify({ type: "telemetry", window: { windowStart: "yesterday" } }));
      const e2 = await catalog.next((f) => f.type === "error", 3_000, "error frame");
      assert.equal(e2.code, "invalid-frame");
      assert.match(String(e2.message), /window/);
      assert.ok(catalog.isOpen, "the offending agent stays connected");

      const shop = agent("shop", "v2", "127.0.0.1:7003", { instanceId: "shop-1" });
      await shop.connect();
      await shop.nextSnapshot((s) => endpointsOf(s, "shop").length === 1);
      await payments.nextSnapshot((s) => endpointsOf(s, "shop").includes("127.0.0.1:7003"));
      await catalog.nextSnapshot((s) => endpointsOf(s, "shop").includes("127.0.0.1:7003"));

      shop.close();
      await payments.nextSnapshot((s) => endpointsOf(s, "shop").length === 0);
    });

    test("telemetry frames show up in graph.live with the right rps, p99 and error rate", async () => {
      const nowSec = Math.floor(Date.now() / 1000);
      // 12 seconds of catalog@v1 -> payments@v1: 30 requests/s, 3 of them 5xx, latencies 2.2 ms (p99 in the 2..2.5 bucket).
      for (let s = nowSec - 12; s < nowSec; s++) {
        const ok = emptyHistogram();
        for (let i = 0; i < 27; i++) observe(ok, 2.2);
        const bad = emptyHistogram();
        for (let i = 0; i < 3; i++) observe(bad, 2.2);
        catalog.sendTelemetry({
          windowStart: s * 1000,
          windowMs: 1000,
          spans: [],
          edges: [
            {
              source: "catalog",
              sourceVersion: "v1",
              destination: "payments",
              destinationVersion: "v1",
              statusClass: "2xx",
              requests: 27,
              errors: 0,
              bytesIn: 100,
              bytesOut: 100,
              mtls: 27,
              latency: ok,
            },
            {
              source: "catalog",
              sourceVersion: "v1",
              destination: "payments",
              destinationVersion: "v1",
              statusClass: "5xx",
              requests: 3,
              errors: 3,
              bytesIn: 10,
              bytesOut: 10,
              mtls: 3,
              latency: bad,
            },
          ],
        });
      }
      const graph = await eventually(
        async () => {
          const g = await trpcQuery<LiveGraph>(consoleProc.url, "graph.live");
          const e = g.edges.find((x) => x.id === "e:catalog@v1->payments@v1");
          // The 10-second window ends 2 s before now: seconds now-11 .. now-2 are all in it (exactly 30 rps) until the
          // window slides past the data; the poll is quick, so accept 27..30.
          return e && e.rps >= 27 && e.rps <= 30 ? g : null;
        },
        3_000,
        "edge in graph.live",
      );
      const edge = graph.edges.find((x) => x.id === "e:catalog@v1->payments@v1")!;
      assert.equal(edge.source, "catalog");
      assert.equal(edge.destination, "payments");
      assert.equal(edge.sourceNode, "v:catalog@v1");
      assert.equal(edge.targetNode, "v:payments@v1");
      assert.equal(edge.errorPct, 10);
      assert.equal(edge.errorRate, 0.1);
      assert.equal(edge.mtlsPct, 100);
      assert.ok(edge.p99Ms > 2 && edge.p99Ms <= 2.5, `p99 ${edge.p99Ms}`);
      assert.equal(edge.health, "critical");
      const paymentsNode = graph.nodes.find((n) => n.id === "s:payments")!;
      assert.equal(paymentsNode.kind, "service");
      assert.equal(paymentsNode.health, "critical");
      const version = graph.nodes.find((n) => n.id === "v:payments@v1")!;
      assert.equal(version.parent, "s:payments");
      assert.ok(
        graph.nodes.some((n) => n.id === "s:shop"),
        "registered services without traffic are nodes too",
      );

      // The same shape arrives on /ws/live.
      const ws = new WebSocket(`${consoleProc.wsUrl}/ws/live`, { headers: { cookie: await adminCookie(consoleProc.url) } });
      const frame = await new Promise<LiveGraph>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no /ws/live frame")), 3_000);
        ws.once("message", (data) => {
          clearTimeout(t);
          resolve(JSON.parse(String(data)) as LiveGraph);
        });
      });
      ws.close();
      assert.equal(frame.type, "graph");
      assert.ok(frame.edges.some((e) => e.id === edge.id && e.rps > 0));

      const detail = await trpcQuery<{ name: string; stats: { edgesIn: { source: string; rps: number }[] }; instances: unknown[] }>(
        consoleProc.url,
        "services.get",
        { name: "payments" },
      );
      assert.equal(detail.name, "payments");
      assert.ok(detail.stats.edgesIn.some((e) => e.source === "catalog" && e.rps > 0));
      assert.equal(detail.instances.length, 1);
    });

    test("pages render: the graph, a service, agents", async () => {
      for (const p of ["/", "/services", "/services/payments", "/agents"]) {
        const res = await fetch(`${consoleProc.url}${p}`, { headers: { cookie: await adminCookie(consoleProc.url) } });
        assert.equal(res.status, 200, p);
        const html = await res.text();
        assert.match(html, /Trellis/, p);
      }
      const graphHtml = await (await fetch(`${consoleProc.url}/`, { headers: { cookie: await adminCookie(consoleProc.url) } })).text();
      assert.match(graphHtml, /data-testid="service-graph"/);
    });

    test("a restart with the same data dir keeps services; known endpoints survive the restart grace", async () => {
      const { code } = await consoleProc.proc.stop("SIGTERM", 2_500);
      assert.equal(code, 0, "graceful shutdown within 2.5 s");
      assert.ok(
        consoleProc.proc.output.some((l) => l.includes('"console stopped"')),
        "graceful shutdown completed",
      );
      await catalog.closed(3_000);
      consoleProc = await startConsole({ dataDir, token: TOKEN, env: db.env });
      const services = await trpcQuery<{ name: string }[]>(consoleProc.url, "services.list");
      assert.deepEqual(
        services.map((s) => s.name),
        ["catalog", "payments", "shop"],
      );
      // catalog reconnects first: its snapshot still lists payments (not back yet) thanks to the grace.
      const again = agent("catalog", "v1", "127.0.0.1:7001", { instanceId: "catalog-1", configVersion: 99 });
      await again.connect();
      const snap = await again.nextSnapshot();
      assert.deepEqual(endpointsOf(snap.snapshot, "payments"), ["127.0.0.1:7002"]);
      assert.deepEqual(endpointsOf(snap.snapshot, "shop"), [], "a disconnected instance gets no grace");
      assert.ok(snap.version > 99, "versions stay above what agents already hold");
    });
  });

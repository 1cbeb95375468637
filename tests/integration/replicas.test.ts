/**
 * Two console replicas on one real PostgreSQL, real agents split between them (each agent knows one console URL):
 *
 *   replica A: web (caller) + payments v1          replica B: shop (caller) + payments v2
 *
 * Both replicas share the data directory's CA (as replicas share a Secret), so agents of A and B trust each other.
 * Checks: a replica starting does not withdraw the other's agents; endpoints registered on one replica reach the agents
 * of the other; a split committed on B is acknowledged by A's agents and moves web's traffic; config versions form one
 * monotonic sequence whichever replica cut them; every replica lists every agent's sync state; A's live graph shows
 * the traffic B's agents report, within 2 s of B's own graph, and the same totals; the rollups lease moves to the
 * survivor within its TTL when its holder is killed with SIGKILL.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type AgentHandle,
  type ConsoleHandle,
  ConsoleSession,
  eventually,
  type PostgresServer,
  startAgent,
  startConsole,
  startPostgres,
  stopAll,
  tempDir,
} from "@trellis/testkit";
import { type CallerApp, type EchoApp, request, startCallerApp, startEchoApp } from "../support/apps.ts";

const LEASE_TTL_MS = 3_000;

interface Sync {
  version: number;
  total: number;
  applied: number;
  nacked: number;
}
interface AgentsList {
  replicaId: string;
  connected: number;
  agents: {
    instanceId: string;
    service: string;
    version: string;
    connected: boolean;
    syncState: string;
    ackedVersion: number;
    replicaId: string | null;
  }[];
}
interface ReplicasList {
  self: string;
  shared: boolean;
  replicas: { id: string; alive: boolean; agents: number }[];
  leases: { name: string; holder: string; expired: boolean }[];
  telemetryShare: { chunksSent: number; chunksReceived: number; recordsMerged: number };
}

describe("console replicas on one PostgreSQL", () => {
  let pg: PostgresServer;
  let a: ConsoleHandle;
  let b: ConsoleHandle;
  let apiA: ConsoleSession;
  let apiB: ConsoleSession;
  let v1: EchoApp;
  let v2: EchoApp;
  let webApp: CallerApp;
  let shopApp: CallerApp;
  let web: AgentHandle;
  let shop: AgentHandle;

  async function agentConfig(agent: AgentHandle) {
    return JSON.parse((await request(agent.admin, "/config")).body.toString()) as {
      version: number;
      snapshot: { services: { name: string; split?: { version: string; weight: number }[]; endpoints: { version: string }[] }[] };
    };
  }

  async function callPayments(caller: AgentHandle, n: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await request(caller.inbound, `/call/payments/charge/${i}`);
      assert.equal(r.status, 200, `${r.status} ${r.headers["x-trellis-error"] ?? ""} ${r.body.toString().slice(0, 200)}`);
      const app = String(r.headers["x-app"]);
      counts[app] = (counts[app] ?? 0) + 1;
    }
    return counts;
  }

  before(async () => {
    pg = await startPostgres();
    const env = {
      DATABASE_URL: await pg.createDatabase("trellis"),
      TRELLIS_LEASE_TTL_MS: String(LEASE_TTL_MS),
      TRELLIS_REPLICA_HEARTBEAT_MS: "500",
      TRELLIS_REPLICA_TTL_MS: "3000",
      TRELLIS_ROLLUP_INTERVAL_MS: "500",
    };
    const dataDir = tempDir("replicas");
    a = await startConsole({ dataDir, env: { ...env, TRELLIS_REPLICA_ID: "replica-a" } });
    apiA = await ConsoleSession.signIn(a.url);
    v1 = await startEchoApp("payments-v1");
    v2 = await startEchoApp("payments-v2");
    webApp = await startCallerApp();
    shopApp = await startCallerApp();
    const onA = { console: a.wsAgents, token: a.token };
    await startAgent({ service: "payments", version: "v1", appPort: v1.port, ...onA });
    web = await startAgent({ service: "web", appPort: webApp.port, ...onA });
    webApp.outboundPort = web.outbound;
    await eventually(async () => (await apiA.query<AgentsList>("agents.list")).connected === 2, 10_000, "A's agents registered");

    b = await startConsole({ dataDir, env: { ...env, TRELLIS_REPLICA_ID: "replica-b" } });
    apiB = await ConsoleSession.signIn(b.url);
    const onB = { console: b.wsAgents, token: b.token };
    await startAgent({ service: "payments", version: "v2", appPort: v2.port, ...onB });
    shop = await startAgent({ service: "shop", appPort: shopApp.port, ...onB });
    shopApp.outboundPort = shop.outbound;
  });

  after(async () => {
    await stopAll();
    await Promise.all([v1?.close(), v2?.close(), webApp?.close(), shopApp?.close()]);
    await pg?.stop();
  });

  test("B starting leaves A's agents connected; each replica lists all four agents, held by the right replica", async () => {
    for (const api of [apiA, apiB]) {
      const expected = { "payments@v1": "replica-a", "web@v1": "replica-a", "payments@v2": "replica-b", "shop@v1": "replica-b" };
      const holderOf = (l: AgentsList) => Object.fromEntries(l.agents.map((x) => [`${x.service}@${x.version}`, x.replicaId]));
      let last: AgentsList | null = null;
      // Registrations on the other replica land in batches: wait for the whole picture, then compare it.
      await eventually(
        async () => {
          const l = await api.query<AgentsList>("agents.list");
          last = l;
          const ready = l.connected === 4 && l.agents.every((x) => x.syncState === "SYNCED");
          return ready && JSON.stringify(Object.entries(holderOf(l)).sort()) === JSON.stringify(Object.entries(expected).sort());
        },
        10_000,
        "4 agents connected and SYNCED, each held by its replica",
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last list: ${JSON.stringify(last)}`);
      });
      assert.deepEqual(holderOf(last!), expected);
    }
    const replicas = await apiB.query<ReplicasList>("replicas.list");
    assert.equal(replicas.shared, true);
    assert.deepEqual(
      replicas.replicas.map((r) => [r.id, r.alive, r.agents]),
      [
        ["replica-a", true, 2],
        ["replica-b", true, 2],
      ],
    );
  });

  test("endpoints registered on one replica reach the agents of the other", async () => {
    for (const caller of [web, shop])
      await eventually(
        async () => {
          const payments = (await agentConfig(caller)).snapshot?.services.find((s) => s.name === "payments");
          return payments && new Set(payments.endpoints.map((e) => e.version)).size === 2;
        },
        10_000,
        "caller knows payments v1 (on A) and v2 (on B)",
      );
    const counts = await callPayments(web, 40);
    assert.ok((counts["payments-v1"] ?? 0) > 0 && (counts["payments-v2"] ?? 0) > 0, JSON.stringify(counts));
  });

  test("a split committed on B is acknowledged by A's agents and moves web's traffic (web is on A)", async () => {
    const res = await apiB.mutate<{ configVersion: number }>("traffic.setSplit", {
      service: "payments",
      split: [
        { version: "v1", weight: 0 },
        { version: "v2", weight: 100 },
      ],
    });
    const version = res.configVersion;
    const started = Date.now();
    // A's own view of the mesh: its agents live, B's as B wrote them.
    await eventually(
      async () => {
        const s = await apiA.query<Sync>("traffic.sync", { version });
        return s.total === 4 && s.applied === 4;
      },
      10_000,
      `all 4 agents ack v${version} (seen from A)`,
    );
    const webConfig = await agentConfig(web);
    assert.equal(webConfig.version, version, "A pushed the very version B cut (same topology, same version)");
    assert.deepEqual(webConfig.snapshot.services.find((s) => s.name === "payments")?.split, [
      { version: "v1", weight: 0 },
      { version: "v2", weight: 100 },
    ]);
    console.log(`split committed on B acknowledged by A's agents in ${Date.now() - started} ms`);
    assert.deepEqual(await callPayments(web, 30), { "payments-v2": 30 });
  });

  test("config versions stay one monotonic sequence whichever replica cuts them", async () => {
    const versions: number[] = [];
    for (let i = 0; i < 6; i++) {
      const api = i % 2 === 0 ? apiA : apiB;
      const w = 10 + i * 10;
      const res = await api.mutate<{ configVersion: number }>("traffic.setSplit", {
        service: "payments",
        split: [
          { version: "v1", weight: w },
          { version: "v2", weight: 100 - w },
        ],
      });
      versions.push(res.configVersion);
    }
    for (let i = 1; i < versions.length; i++) assert.ok(versions[i] > versions[i - 1], `versions ${versions.join(", ")}`);
    const last = versions.at(-1)!;
    for (const agent of [web, shop]) await eventually(async () => (await agentConfig(agent)).version === last, 10_000, `agent at v${last}`);
    // Every agent, on either replica, acks that very version (the replicas pushed the same one), and both list it.
    for (const api of [apiA, apiB])
      await eventually(
        async () => (await api.query<AgentsList>("agents.list")).agents.every((x) => x.ackedVersion === last && x.syncState === "SYNCED"),
        10_000,
        `every agent acked v${last}`,
      );
  });

  test("A's live graph shows the traffic of B's agents within 2 s of B's own graph, with the same totals", async () => {
    const edge = async (api: ConsoleSession) =>
      (await api.liveEdges()).find((e) => e.source === "shop" && e.destination === "payments" && e.requests > 0);
    let running = true;
    const load = (async () => {
      let i = 0;
      while (running) await request(shop.inbound, `/call/payments/live/${i++}`);
    })();
    const seen: Record<string, number> = {};
    const start = Date.now();
    await eventually(
      async () => {
        for (const [name, api] of [
          ["A", apiA],
          ["B", apiB],
        ] as const)
          if (seen[name] === undefined && (await edge(api))) seen[name] = Date.now() - start;
        return seen.A !== undefined && seen.B !== undefined;
      },
      15_000,
      "shop -> payments on both replicas' live graphs",
    );
    running = false;
    await load;
    console.log(`shop -> payments appeared on B's live graph after ${seen.B} ms, on A's after ${seen.A} ms`);
    assert.ok(seen.A - seen.B <= 2_000, `A lagged B by ${seen.A - seen.B} ms`);
    // Once the load stopped and settled, both replicas count the same requests over the same window.
    await eventually(
      async () => {
        const [ea, eb] = await Promise.all([edge(apiA), edge(apiB)]);
        return ea && eb && ea.requests === eb.requests && ea.requests > 0;
      },
      10_000,
      "same shop -> payments totals on A and B",
    );
    const stats = await apiA.query<ReplicasList>("replicas.list");
    assert.ok(stats.telemetryShare.chunksReceived > 0 && stats.telemetryShare.recordsMerged > 0);
  });

  test("the rollups lease moves to the survivor within its TTL when its holder is killed (SIGKILL)", async () => {
    const leases = await eventually(
      async () => {
        const l = (await apiA.query<ReplicasList>("replicas.list")).leases;
        const rollups = l.find((x) => x.name === "rollups" && !x.expired);
        return rollups ? l : null;
      },
      10_000,
      "the rollups lease held",
    );
    const holder = leases.find((x) => x.name === "rollups")!.holder;
    const [victim, survivor, survivorId] = holder === "replica-a" ? [a, apiB, "replica-b"] : [b, apiA, "replica-a"];
    await victim.proc.stop("SIGKILL", 0);
    const killed = Date.now();
    await eventually(
      async () => {
        const l = await survivor.query<ReplicasList>("replicas.list");
        return l.leases.find((x) => x.name === "rollups")?.holder === survivorId;
      },
      LEASE_TTL_MS * 3,
      `rollups lease on ${survivorId}`,
    );
    const moved = Date.now() - killed;
    console.log(`rollups lease moved from ${holder} to ${survivorId} ${moved} ms after SIGKILL (TTL ${LEASE_TTL_MS} ms)`);
    assert.ok(moved <= LEASE_TTL_MS + LEASE_TTL_MS / 3 + 1_000, `moved after ${moved} ms`);
    // The dead replica's agents are withdrawn once its heartbeat is older than the replica TTL.
    await eventually(
      async () => {
        const l = await survivor.query<ReplicasList>("replicas.list");
        return l.replicas.length === 1 && l.replicas[0].id === survivorId;
      },
      10_000,
      "the dead replica reaped",
    );
    const agents = await survivor.query<AgentsList>("agents.list");
    assert.equal(agents.connected, 2, "only the survivor's agents stay connected");
  });
});

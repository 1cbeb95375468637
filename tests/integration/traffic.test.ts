/**
 * Traffic management end to end, real processes on 127.0.0.1: a console, a caller (web) and two versions of a
 * service (payments v1, v2), each with its own agent. Policies go in through the console's tRPC API, are pushed as
 * config versions, acknowledged by every agent, and change where calls go.
 *   test --> agent(web) inbound --> caller app --> agent(web) outbound --> agent(payments vN) inbound --> echo app
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, type ConsoleHandle, ConsoleSession, eventually, startAgent, startConsole, stopAll, TrpcError } from "@trellis/testkit";
import { type CallerApp, type EchoApp, request, startCallerApp, startEchoApp } from "../support/apps.ts";

interface Sync {
  version: number;
  total: number;
  applied: number;
  nacked: number;
}
interface ChangeResult {
  configVersion: number;
  revision: { id: number; kind: string; diff: string[]; configVersion: number } | null;
}
interface Revision {
  id: number;
  service: string;
  kind: string;
  actor: string;
  diff: string[];
  before: { split?: { version: string; weight: number }[] };
  after: { split?: { version: string; weight: number }[] };
}

describe("traffic management: policies pushed, acknowledged and applied", () => {
  let consoleProc: ConsoleHandle;
  let api: ConsoleSession;
  let v1: EchoApp;
  let v2: EchoApp;
  let webApp: CallerApp;
  let webAgent: AgentHandle;
  const agents: AgentHandle[] = [];

  async function agentConfig(agent: AgentHandle) {
    return JSON.parse((await request(agent.admin, "/config")).body.toString()) as {
      version: number;
      snapshot: { services: { name: string; split?: { version: string; weight: number }[]; endpoints: { version: string }[] }[] };
    };
  }

  /** Waits until every connected agent acknowledged `version` (the console's own sync view) and web runs it. */
  async function applied(version: number): Promise<void> {
    await eventually(
      async () => {
        const s = await api.query<Sync>("traffic.sync", { version });
        return s.total === 3 && s.applied === 3;
      },
      10_000,
      `all 3 agents ack config v${version}`,
    );
    assert.ok((await agentConfig(webAgent)).version >= version);
  }

  /** `n` calls web -> payments through the mesh; which version answered each. */
  async function callPayments(n: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const r = await request(webAgent.inbound, "/call/payments/charge", { headers });
        assert.equal(r.status, 200, `${r.status} ${r.headers["x-trellis-error"] ?? ""} ${r.body.toString().slice(0, 200)}`);
        const app = String(r.headers["x-app"]);
        counts[app] = (counts[app] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    return counts;
  }

  async function expectRejected(call: Promise<unknown>, field: RegExp): Promise<void> {
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof TrpcError, String(err));
      assert.equal(err.status, 400);
      const message = (err.body as { error?: { message?: string } }).error?.message ?? "";
      assert.match(message, field);
      return true;
    });
  }

  before(async () => {
    consoleProc = await startConsole();
    api = await ConsoleSession.signIn(consoleProc.url);
    v1 = await startEchoApp("payments-v1");
    v2 = await startEchoApp("payments-v2");
    const common = { console: consoleProc.wsAgents, token: consoleProc.token };
    agents.push(await startAgent({ service: "payments", version: "v1", appPort: v1.port, ...common }));
    agents.push(await startAgent({ service: "payments", version: "v2", appPort: v2.port, ...common }));
    webApp = await startCallerApp();
    webAgent = await startAgent({ service: "web", version: "v1", appPort: webApp.port, ...common });
    webApp.outboundPort = webAgent.outbound;
    agents.push(webAgent);
    await eventually(
      async () => {
        const payments = (await agentConfig(webAgent)).snapshot?.services.find((s) => s.name === "payments");
        return payments && new Set(payments.endpoints.map((e) => e.version)).size === 2;
      },
      10_000,
      "web agent knows both payments versions",
    );
  });

  after(async () => {
    await stopAll();
    await Promise.all([v1?.close(), v2?.close(), webApp?.close()]);
  });

  test("at split 90/10 the v2 share over 2,000 requests is within ±3 points of 10%", async () => {
    const res = await api.mutate<ChangeResult>("traffic.setSplit", {
      service: "payments",
      split: [
        { version: "v1", weight: 90 },
        { version: "v2", weight: 10 },
      ],
    });
    assert.ok(res.revision, "the change is a revision");
    assert.equal(res.revision.kind, "split");
    assert.ok(res.configVersion > 0);
    await applied(res.configVersion);
    const payments = (await agentConfig(webAgent)).snapshot.services.find((s) => s.name === "payments")!;
    assert.deepEqual(payments.split, [
      { version: "v1", weight: 90 },
      { version: "v2", weight: 10 },
    ]);

    const N = 2000;
    const counts = await callPayments(N);
    const share = (counts["payments-v2"] ?? 0) / N;
    console.log(`# 90/10 split: v2 share ${(share * 100).toFixed(2)}% over ${N} requests (${JSON.stringify(counts)})`);
    assert.ok(Math.abs(share - 0.1) <= 0.03, `v2 share ${(share * 100).toFixed(1)}%`);
  });

  test("after moving to 0/100 and the ACKs, no request reaches v1", async () => {
    const res = await api.mutate<ChangeResult>("traffic.setSplit", {
      service: "payments",
      split: [
        { version: "v1", weight: 0 },
        { version: "v2", weight: 100 },
      ],
    });
    await applied(res.configVersion);
    const v1Before = v1.seen.length;
    const counts = await callPayments(500);
    assert.equal(v1.seen.length, v1Before, "v1 received nothing");
    assert.deepEqual(counts, { "payments-v2": 500 });
  });

  test("an invalid policy is rejected naming the field; nothing is stored or pushed", async () => {
    const health = async () => (await (await fetch(`${consoleProc.url}/healthz`)).json()) as { configVersion: number };
    const versionBefore = (await health()).configVersion;
    const revisionsBefore = (await api.query<Revision[]>("revisions.list", {})).length;
    const agentVersionBefore = (await agentConfig(webAgent)).version;

    await expectRejected(
      api.mutate("traffic.setSplit", {
        service: "payments",
        split: [
          { version: "v1", weight: 90 },
          { version: "v2", weight: 20 },
        ],
      }),
      /^split: weights must sum to 100 \(got 110\)/,
    );
    await expectRejected(
      api.mutate("traffic.setSplit", {
        service: "payments",
        split: [
          { version: "v1", weight: 90 },
          { version: "v7", weight: 10 },
        ],
      }),
      /^split\.1\.version: unknown version v7 of payments/,
    );
    await expectRejected(api.mutate("traffic.update", { service: "payments", patch: { timeoutMs: -5 } }), /^timeoutMs: Too small/);
    await expectRejected(
      api.mutate("traffic.update", { service: "payments", patch: { retries: { attempts: 2, retryOn: ["sometimes"] } } }),
      /^retries\.retryOn\.0: Invalid option/,
    );
    await expectRejected(
      api.mutate("traffic.update", { service: "payments", patch: { routes: [{ match: { pathPrefix: "/x" }, version: "v3" }] } }),
      /^routes\.0\.version: unknown version v3 of payments/,
    );

    // Give a (wrong) push every chance to happen, then check nothing moved.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await health()).configVersion, versionBefore, "the config version did not move");
    assert.equal((await api.query<Revision[]>("revisions.list", {})).length, revisionsBefore, "no revision stored");
    assert.equal((await agentConfig(webAgent)).version, agentVersionBefore, "nothing pushed to the agents");
    const stored = await api.query<{ policy: { split?: unknown; timeoutMs?: number } }>("traffic.get", { service: "payments" });
    assert.deepEqual(stored.policy.split, [
      { version: "v1", weight: 0 },
      { version: "v2", weight: 100 },
    ]);
    assert.equal(stored.policy.timeoutMs, undefined);
  });

  test("routes: x-canary: 1 goes to v1 ahead of the default split (pushed like any change)", async () => {
    const res = await api.mutate<ChangeResult>("traffic.update", {
      service: "payments",
      patch: { routes: [{ name: "canary-header", match: { headers: [{ name: "x-canary", value: "1" }] }, version: "v1" }] },
    });
    await applied(res.configVersion);
    assert.deepEqual(await callPayments(50, { "x-canary": "1" }), { "payments-v1": 50 });
    assert.deepEqual(await callPayments(50), { "payments-v2": 50 });
    const removed = await api.mutate<ChangeResult>("traffic.update", { service: "payments", patch: { routes: null } });
    await applied(removed.configVersion);
  });

  test("history: every change is a revision with a readable diff; rolling one back restores the old split", async () => {
    const revisions = await api.query<Revision[]>("revisions.list", { service: "payments" });
    const toAllV2 = revisions.find((r) => r.kind === "split" && r.after.split?.some((e) => e.version === "v2" && e.weight === 100));
    assert.ok(toAllV2, JSON.stringify(revisions.map((r) => r.kind)));
    assert.equal(toAllV2.actor, "admin"); // the signed-in user (actorOf)
    assert.deepEqual(toAllV2.diff, ["~ split v1: 90% → 0%", "~ split v2: 10% → 100%"]);

    const res = await api.mutate<ChangeResult>("revisions.rollback", { id: toAllV2.id });
    assert.ok(res.revision);
    assert.equal(res.revision.kind, "rollback");
    await applied(res.configVersion);
    const payments = (await agentConfig(webAgent)).snapshot.services.find((s) => s.name === "payments")!;
    assert.deepEqual(payments.split, [
      { version: "v1", weight: 90 },
      { version: "v2", weight: 10 },
    ]);
    const latest = (await api.query<Revision[]>("revisions.list", { service: "payments", limit: 1 }))[0];
    assert.equal(latest.id, res.revision.id);
    assert.deepEqual(latest.diff, ["~ split v1: 0% → 90%", "~ split v2: 100% → 10%"]);
  });
});

/**
 * The foundation end to end, with real processes on 127.0.0.1: a console, two agents, two HTTP apps.
 *   test --> agent(web) inbound --> caller app --> agent(web) outbound --> agent(catalog) inbound --> echo app
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, type ConsoleHandle, eventually, liveEdges, startAgent, startConsole, stopAll } from "@trellis/testkit";
import WebSocket from "ws";
import { type CallerApp, type EchoApp, request, startCatalogAndWeb, startEchoApp } from "../support/apps.ts";

describe("mesh foundation: console + two agents + two apps", () => {
  let consoleProc: ConsoleHandle;
  let catalogApp: EchoApp;
  let webApp: CallerApp;
  let _catalogAgent: AgentHandle;
  let webAgent: AgentHandle;
  let extraApp: EchoApp | undefined;

  async function adminJson(agent: AgentHandle, path: string) {
    const r = await request(agent.admin, path);
    return { status: r.status, body: r.status === 200 ? JSON.parse(r.body.toString()) : undefined };
  }

  /** Waits until the web agent's applied snapshot lists a catalog endpoint. */
  async function webKnowsCatalog() {
    await eventually(
      async () => {
        const cfg = await adminJson(webAgent, "/config");
        const catalog = cfg.body?.snapshot?.services?.find((s: { name: string }) => s.name === "catalog");
        return catalog?.endpoints?.length > 0;
      },
      10_000,
      "web agent receives catalog's endpoint from the console",
    );
  }

  before(async () => {
    consoleProc = await startConsole();
    ({ catalogApp, catalogAgent: _catalogAgent, webApp, webAgent } = await startCatalogAndWeb(consoleProc));
    await webKnowsCatalog();
    // Calls between agents run over mTLS: /ready covers the certificate (a loaded machine may take a while for it).
    for (const a of [webAgent, _catalogAgent])
      await eventually(async () => (await request(a.admin, "/ready")).status === 200, 20_000, "agent ready with its certificate");
  });

  after(async () => {
    await stopAll();
    await catalogApp?.close();
    await webApp?.close();
    await extraApp?.close();
  });

  test("a call through the mesh arrives intact", async () => {
    const body = randomBytes(256 * 1024);
    const res = await request(webAgent.inbound, "/call/catalog/items/42?color=red&size=m", {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-request-id": "req-1" },
      body,
    });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers["x-app"], "catalog");
    const echoed = JSON.parse(res.body.toString());
    assert.deepEqual(echoed, { app: "catalog", method: "POST", url: "/items/42?color=red&size=m", bodyLength: body.length });
    const seen = catalogApp.seen.at(-1)!;
    assert.ok(seen.body.equals(body), "request body arrives byte for byte");
    assert.equal(seen.headers["x-request-id"], "req-1");
    assert.equal(seen.headers["content-type"], "application/octet-stream");
  });

  test("the call's edge reaches the console's graph API within 3 s", async () => {
    for (let i = 0; i < 10; i++) assert.equal((await request(webAgent.inbound, "/call/catalog/ping")).status, 200);
    const edge = await eventually(
      async () => (await liveEdges(consoleProc.url)).find((e) => e.source === "web" && e.destination === "catalog" && e.rps > 0),
      3_000,
      "edge web -> catalog with rps > 0 in graph.live",
    );
    assert.equal(edge.errorRate, 0);
    const ingress = (await liveEdges(consoleProc.url)).find((e) => e.source === "ingress" && e.destination === "web");
    assert.ok(ingress && ingress.rps > 0, "traffic from outside the mesh shows as an ingress edge");
  });

  test("an invalid frame gets an error frame and the hub keeps serving the others", async () => {
    const ws = new WebSocket(consoleProc.wsAgents);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const reply = new Promise<{ type: string; code: string }>((resolve) => ws.once("message", (m) => resolve(JSON.parse(m.toString()))));
    ws.send("{ this is not json");
    const frame = await reply;
    assert.equal(frame.type, "error");
    ws.close();

    // The real agents are still served: a new instance joining is pushed to the web agent.
    const before = (await adminJson(webAgent, "/config")).body.version as number;
    extraApp = await startEchoApp("catalog");
    await startAgent({
      service: "catalog",
      version: "v2",
      appPort: extraApp.port,
      console: consoleProc.wsAgents,
      token: consoleProc.token,
    });
    await eventually(
      async () => {
        const cfg = (await adminJson(webAgent, "/config")).body;
        const catalog = cfg.snapshot.services.find((s: { name: string }) => s.name === "catalog");
        return cfg.version > before && catalog.endpoints.some((e: { version: string }) => e.version === "v2");
      },
      5_000,
      "web agent receives the new catalog v2 endpoint",
    );
  });

  test("with the console stopped, calls still succeed", async () => {
    await consoleProc.proc.stop();
    for (let i = 0; i < 20; i++) {
      const res = await request(webAgent.inbound, `/call/catalog/after-console/${i}`);
      assert.equal(res.status, 200, `call ${i}: ${res.headers["x-trellis-error"] ?? res.body.toString()}`);
      assert.equal(JSON.parse(res.body.toString()).url, `/after-console/${i}`);
    }
  });

  test("an agent restarted while the console is down serves with its persisted snapshot", async () => {
    await webAgent.proc.stop();
    webAgent = await startAgent({
      service: "web",
      version: "v1",
      appPort: webApp.port,
      console: consoleProc.wsAgents,
      token: consoleProc.token,
      stateDir: webAgent.stateDir,
    });
    webApp.outboundPort = webAgent.outbound;
    const ready = await request(webAgent.admin, "/ready");
    assert.equal(ready.status, 200, "ready from the persisted snapshot without a console");
    for (let i = 0; i < 20; i++) {
      const res = await request(webAgent.inbound, `/call/catalog/restarted/${i}`);
      assert.equal(res.status, 200, `call ${i}: ${res.headers["x-trellis-error"] ?? res.body.toString()}`);
    }
  });
});

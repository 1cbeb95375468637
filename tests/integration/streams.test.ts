/**
 * Streams through the mesh (issue #10, scopes 4 and 5): WebSockets with the `ws` package as client and server through
 * two agents with mTLS STRICT at the destination — 1,000 messages both ways, text and binary, close codes and reasons
 * relayed, the connection on the live graph, an unlisted caller refused with 403 before the upgrade; server-sent
 * events that outlive the route timeout; a stalled stream cut by the idle timeout; CONNECT refused with its reason.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import {
  type AgentHandle,
  adminSession,
  type ConsoleHandle,
  type ConsoleSession,
  eventually,
  startAgent,
  startConsole,
  stopAll,
} from "@trellis/testkit";
import WebSocket from "ws";
import { type EchoApp, request, startEchoApp } from "../support/apps.ts";
import { type StreamApp, startStreamApp } from "../support/stream-app.ts";

async function adminJson(agent: AgentHandle, p: string) {
  return JSON.parse((await request(agent.admin, p)).body.toString());
}

function connect(port: number, path = "/chat"): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host: "chat" } });
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Reads a streamed response through the agent, resolving with its chunks' text and when each arrived. */
function stream(port: number, path: string): Promise<{ status: number; text: string; error: string | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nhost: chat\r\nconnection: close\r\n\r\n`));
    let text = "";
    socket.on("data", (c) => {
      text += c.toString();
    });
    const done = (error: string | null) => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0);
      resolve({ status, text, error, ms: Date.now() - t0 });
    };
    socket.on("error", (e) => done(e.message));
    socket.on("close", () => done(null));
    socket.setTimeout(20_000, () => socket.destroy(new Error("test timeout")));
  });
}

describe("streams: WebSockets and server-sent events through two agents", { concurrency: false }, () => {
  let c: ConsoleHandle;
  let admin: ConsoleSession;
  let chatApp: StreamApp;
  let webApp: EchoApp;
  let chatAgent: AgentHandle;
  let webAgent: AgentHandle;

  before(async () => {
    c = await startConsole();
    admin = await adminSession(c.url);
    chatApp = await startStreamApp();
    webApp = await startEchoApp("web");
    chatAgent = await startAgent({ service: "chat", appPort: chatApp.port, console: c.wsAgents, token: c.token });
    webAgent = await startAgent({ service: "web", appPort: webApp.port, console: c.wsAgents, token: c.token });
    for (const a of [chatAgent, webAgent]) await eventually(async () => (await adminJson(a, "/identity"))?.spiffeId, 15_000, "agent certificate");
    await admin.mutate("security.setMtls", { name: "chat", mode: "STRICT" });
    await eventually(
      async () =>
        (await adminJson(webAgent, "/config")).snapshot?.services?.some(
          (s: { name: string; mtls: string; endpoints: unknown[] }) => s.name === "chat" && s.mtls === "STRICT" && s.endpoints.length > 0,
        ) &&
        (await adminJson(chatAgent, "/config")).snapshot?.services?.some(
          (s: { name: string; mtls: string }) => s.name === "chat" && s.mtls === "STRICT",
        ),
      15_000,
      "web knows chat, STRICT on both",
    );
  });

  after(async () => {
    await stopAll();
    await chatApp?.close();
    await webApp?.close();
  });

  test("ws: 1,000 messages both ways, text and binary, over mTLS STRICT; close codes and reasons relayed both ways", async () => {
    const ws = connect(webAgent.outbound);
    await opened(ws);
    const got: { binary: boolean; data: Buffer }[] = [];
    const all = new Promise<void>((resolve) =>
      ws.on("message", (data, isBinary) => {
        got.push({ binary: isBinary, data: data as Buffer });
        if (got.length === 1000) resolve();
      }),
    );
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) ws.send(`text message ${i}`);
      else ws.send(Buffer.from([i & 0xff, (i >> 8) & 0xff, 0, 255, 1, 2, 3]), { binary: true });
    }
    await all;
    for (let i = 0; i < 1000; i++) {
      assert.equal(got[i].binary, i % 2 === 1, `message ${i} kind`);
      if (i % 2 === 0) assert.equal(got[i].data.toString(), `text message ${i}`);
      else assert.deepEqual([...got[i].data], [i & 0xff, (i >> 8) & 0xff, 0, 255, 1, 2, 3]);
    }
    // The client closes: the server sees its code and reason.
    const done = closed(ws);
    ws.close(4001, "client says bye");
    assert.deepEqual(await done, { code: 4001, reason: "client says bye" });
    await eventually(async () => chatApp.closes.some((x) => x.code === 4001 && x.reason === "client says bye"), 5_000, "server saw 4001");

    // The server closes: the client sees its code and reason.
    const ws2 = connect(webAgent.outbound);
    await opened(ws2);
    const done2 = closed(ws2);
    ws2.send("close:4002:server says bye");
    assert.deepEqual(await done2, { code: 4002, reason: "server says bye" });
  });

  test("the WebSocket connection shows on the console's live graph (web → chat, over mTLS)", async () => {
    const ws = connect(webAgent.outbound);
    await opened(ws);
    const edge = await eventually(
      async () => (await admin.liveEdges()).find((e) => e.source === "web" && e.destination === "chat" && (e.connections ?? 0) >= 1),
      15_000,
      "web → chat on the live graph with its open connection",
    );
    assert.ok(edge.mtlsShare > 0.5, `mTLS share ${edge.mtlsShare}`);
    const metrics = (await request(webAgent.admin, "/metrics")).body.toString();
    assert.match(metrics, /destination_service="chat"[^\n]*response_code="101"/);
    ws.close(1000);
    await closed(ws);
  });

  test("server-sent events outlive the route timeout (1 s timeout, events for 3 s, all received)", async () => {
    // Set in the console like any policy; the idle timeout (2 s) lets a stream that moves every 200 ms run on.
    await admin.mutate("traffic.update", { service: "chat", patch: { timeoutMs: 1000, idleTimeoutMs: 2000 } });
    await eventually(
      async () => {
        const chat = (await adminJson(webAgent, "/config")).snapshot?.services?.find((s: { name: string }) => s.name === "chat");
        return chat?.timeoutMs === 1000 && chat?.idleTimeoutMs === 2000;
      },
      10_000,
      "timeouts applied",
    );
    const r = await stream(webAgent.outbound, "/events?count=15&everyMs=200");
    assert.equal(r.status, 200);
    assert.equal(r.error, null);
    for (let i = 0; i < 15; i++) assert.ok(r.text.includes(`data: event ${i}\n`), `event ${i} in ${r.text.slice(-200)}`);
    assert.ok(r.ms >= 2900, `ran ${r.ms} ms`);
  });

  test("authorization: an upgrade from an unlisted caller gets 403 rbac-denied before the upgrade", async () => {
    await admin.mutate("security.addRule", { name: "chat", rule: { principals: ["cart"] } });
    await eventually(
      async () => (await adminJson(chatAgent, "/config")).snapshot.services.find((s: { name: string }) => s.name === "chat").authorization,
      10_000,
      "policy applied",
    );
    const before = chatApp.closes.length;
    const ws = connect(webAgent.outbound);
    const res = await new Promise<{ status: number; reason: string | undefined }>((resolve, reject) => {
      ws.once("unexpected-response", (_req, r) => resolve({ status: r.statusCode ?? 0, reason: r.headers["x-trellis-error"] as string | undefined }));
      ws.once("open", () => reject(new Error("upgraded")));
      ws.once("error", reject);
    });
    assert.deepEqual(res, { status: 403, reason: "rbac-denied" });
    assert.equal(chatApp.closes.length, before, "the app never saw it");
  });

  test("CONNECT is refused with 405 and its reason", async () => {
    const text = await new Promise<string>((resolve) => {
      const s = net.connect(webAgent.outbound, "127.0.0.1", () => s.write("CONNECT chat:80 HTTP/1.1\r\nhost: chat:80\r\n\r\n"));
      let out = "";
      s.on("data", (d) => {
        out += d.toString();
      });
      s.on("close", () => resolve(out));
      s.on("error", () => resolve(out));
    });
    assert.match(text, /^HTTP\/1\.1 405 /);
    assert.match(text, /x-trellis-error: connect-not-supported/i);
  });
});

describe("streams: the idle timeout", { concurrency: false }, () => {
  let app: StreamApp;
  let agent: AgentHandle;

  before(async () => {
    app = await startStreamApp();
    // A lone agent on a persisted snapshot that sends `chat` straight to the app (plaintext endpoint).
    agent = await startAgent({
      service: "web",
      appPort: 1,
      snapshot: {
        version: 1,
        service: "web",
        issuedAt: new Date().toISOString(),
        services: [
          {
            name: "chat",
            versions: ["v1"],
            endpoints: [{ address: `127.0.0.1:${app.port}`, version: "v1", instanceId: "chat-1" }],
            timeoutMs: 1000,
            idleTimeoutMs: 800,
          },
        ],
      },
    });
  });

  after(async () => {
    await stopAll();
    await app?.close();
  });

  test("a stream that stops moving is cut by the idle timeout; one that moves runs past the route timeout", async () => {
    const stalled = await stream(agent.outbound, "/stall");
    assert.equal(stalled.status, 200);
    assert.ok(stalled.text.includes("first chunk"));
    assert.ok(stalled.ms >= 700 && stalled.ms < 5_000, `cut after ${stalled.ms} ms`);
    const moving = await stream(agent.outbound, "/events?count=8&everyMs=300");
    assert.ok(moving.text.includes("data: event 7\n"), moving.text.slice(-200));
  });

  test("a WebSocket that stops moving is closed by the idle timeout", async () => {
    const ws = connect(agent.outbound);
    await opened(ws);
    const t0 = Date.now();
    const r = await closed(ws);
    const ms = Date.now() - t0;
    assert.equal(r.code, 1006, "cut, not closed cleanly");
    assert.ok(ms >= 700 && ms < 5_000, `cut after ${ms} ms`);
  });
});

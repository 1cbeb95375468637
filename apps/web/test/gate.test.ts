/**
 * The console's request gate on a real http.Server (port 0) with fake routes: sign-in check, CSRF for mutations,
 * public paths, routing of HTTP and of websocket upgrades, and the 503s while starting and stopping.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { createGate, type Gate, type GateRoutes, isPublicPath, startingGate, userOf } from "../server/console/gate.ts";
import { createLogger } from "../server/log.ts";
import type { SessionUser } from "../server/repositories/index.ts";

const quiet = { ...createLogger(), info() {}, warn() {}, debug() {}, error() {} };
const alice: SessionUser = { id: "u1", username: "alice", role: "operator" };

/** What reached which route. */
let calls: string[];
let stopping: boolean;
let nextFails: boolean;
let gate: Gate;
let server: http.Server;
let base: string;
let host: string;

const routes: GateRoutes = {
  auth: {
    async handle(_req, res, path) {
      calls.push(`auth ${path}`);
      res.end("auth");
    },
    async userFromRequest(req) {
      calls.push("session lookup");
      return req.headers.cookie === "session=alice" ? alice : null;
    },
  },
  trpc(req, res) {
    calls.push(`trpc ${req.method} ${userOf(req)?.username}`);
    res.end("trpc");
  },
  async next(req, res) {
    calls.push(`next ${req.url}`);
    if (nextFails) throw new Error("render failed");
    res.end("next");
  },
  agents: {
    handleUpgrade(_req, socket) {
      calls.push("agents upgrade");
      socket.end("HTTP/1.1 418 Agents\r\nconnection: close\r\n\r\n");
    },
  },
  live: {
    handleUpgrade(_req, socket) {
      calls.push("live upgrade");
      socket.end("HTTP/1.1 418 Live\r\nconnection: close\r\n\r\n");
    },
  },
  tokens: {
    async userFor(value) {
      calls.push("token lookup");
      return value === "trl_good" ? { id: "t1", username: "token:ci", role: "operator", kind: "token" } : null;
    },
  },
  health: () => ({ agents: 3, configVersion: 42 }),
  stopping: () => stopping,
  log: quiet,
};

before(async () => {
  server = http.createServer((req, res) => gate.request(req, res));
  server.on("upgrade", (req, socket, head) => gate.upgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  calls = [];
  stopping = false;
  nextFails = false;
  gate = createGate(routes);
});

async function get(path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, { redirect: "manual", ...init });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The status line the server answers an upgrade with. */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { headers: { connection: "upgrade", upgrade: "websocket", ...headers } });
    req.on("upgrade", () => reject(new Error("unexpected 101")));
    req.on("response", (res) => {
      resolve(`${res.statusCode}`);
      res.resume();
    });
    req.on("error", reject);
    req.end();
  });
}

const signedIn = { cookie: "session=alice" };

describe("request gate", { concurrency: false }, () => {
  test("/healthz answers without a session, also while stopping", async () => {
    const h = await get("/healthz");
    assert.equal(h.status, 200);
    assert.deepEqual(JSON.parse(h.body), { ok: true, agents: 3, configVersion: 42 });
    stopping = true;
    assert.equal((await get("/healthz")).status, 200);
    assert.deepEqual(calls, []);
  });

  test("tRPC without a session: 401 with a tRPC-shaped error", async () => {
    const r = await get("/api/trpc/services.list");
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error.data.code, "UNAUTHORIZED");
    assert.deepEqual(calls, ["session lookup"]);
  });

  test("tRPC reads need a session; the user reaches the handler", async () => {
    const r = await get("/api/trpc/services.list", { headers: signedIn });
    assert.equal(r.body, "trpc");
    assert.deepEqual(calls, ["session lookup", "trpc GET alice"]);
  });

  test("tRPC mutations need the CSRF header and the console's own origin", async () => {
    const post = (headers: Record<string, string>) => get("/api/trpc/traffic.setSplit", { method: "POST", headers: { ...signedIn, ...headers } });
    const noHeader = await post({});
    assert.equal(noHeader.status, 403);
    assert.equal(JSON.parse(noHeader.body).error.data.code, "FORBIDDEN");
    assert.equal((await post({ "x-trellis-csrf": "1", origin: "http://evil.example" })).status, 403);
    assert.ok(!calls.some((c) => c.startsWith("trpc")), "nothing reached tRPC");
    const ok = await post({ "x-trellis-csrf": "1", origin: base });
    assert.equal(ok.body, "trpc");
    assert.equal(calls.at(-1), "trpc POST alice");
  });

  test("a bearer token reaches tRPC with its caller and needs no CSRF header; a bad one is 401 even beside a session", async () => {
    const post = (headers: Record<string, string>) => get("/api/trpc/traffic.setSplit", { method: "POST", headers });
    const ok = await post({ authorization: "Bearer trl_good", origin: "http://automation.example" });
    assert.equal(ok.body, "trpc");
    assert.deepEqual(calls, ["token lookup", "trpc POST token:ci"]);
    calls = [];
    const bad = await post({ authorization: "Bearer trl_revoked", ...signedIn, "x-trellis-csrf": "1" });
    assert.equal(bad.status, 401);
    assert.equal((await get("/api/trpc/services.list", { headers: { authorization: "Basic abc" } })).status, 401);
    assert.deepEqual(calls, ["token lookup", "token lookup"], "no session lookup for a bearer call");
  });

  test("pages without a session redirect to the sign-in page; public paths are served without a lookup", async () => {
    const r = await get("/services/payments?tab=policies");
    assert.equal(r.status, 307);
    assert.equal(r.headers.get("location"), `/signin?next=${encodeURIComponent("/services/payments?tab=policies")}`);
    assert.equal(r.headers.get("cache-control"), "no-store");
    calls = [];
    for (const p of ["/signin", "/_next/static/chunk.js", "/icon.svg", "/favicon.ico"]) assert.equal((await get(p)).body, "next");
    assert.deepEqual(calls, ["next /signin", "next /_next/static/chunk.js", "next /icon.svg", "next /favicon.ico"]);
    assert.equal(isPublicPath("/api/trpc/x"), false);
  });

  test("pages with a session go to Next; a failing render is a 500", async () => {
    assert.equal((await get("/traces", { headers: signedIn })).body, "next");
    nextFails = true;
    assert.equal((await get("/traces", { headers: signedIn })).status, 500);
  });

  test("/api/auth/* goes to Auth without a session lookup", async () => {
    assert.equal((await get("/api/auth/signin", { method: "POST" })).body, "auth");
    assert.deepEqual(calls, ["auth /api/auth/signin"]);
  });

  test("while stopping: 503 for everything but /healthz, and for our upgrades", async () => {
    stopping = true;
    const r = await get("/traces", { headers: signedIn });
    assert.equal(r.status, 503);
    assert.equal(r.body, "console shutting down\n");
    assert.equal(r.headers.get("retry-after"), "1");
    assert.equal(await upgrade("/ws/agents"), "503");
    assert.deepEqual(calls, []);
  });

  test("upgrades: /ws/agents to the control plane; /ws/live signed in and same-origin only", async () => {
    assert.equal(await upgrade("/ws/agents?x=1"), "418");
    assert.deepEqual(calls, ["agents upgrade"]);
    assert.equal(await upgrade("/ws/live", { ...signedIn, origin: "http://evil.example" }), "403");
    assert.equal(await upgrade("/ws/live", { origin: base }), "401");
    assert.equal(await upgrade("/ws/live", { ...signedIn, origin: base }), "418");
    assert.deepEqual(calls, ["agents upgrade", "session lookup", "session lookup", "live upgrade"]);
  });

  test("other upgrades are left alone (Next's HMR attaches its own listener)", () => {
    let ended = false;
    const socket = { end: () => (ended = true), destroy: () => (ended = true) };
    gate.upgrade({ url: "/_next/webpack-hmr", headers: {} } as http.IncomingMessage, socket as never, Buffer.alloc(0));
    assert.equal(ended, false);
    assert.deepEqual(calls, []);
  });

  test("while starting: /healthz says not ready, everything else and our upgrades are 503", async () => {
    gate = startingGate();
    const h = await get("/healthz");
    assert.equal(h.status, 503);
    assert.deepEqual(JSON.parse(h.body), { ok: false, agents: 0, configVersion: 0 });
    const r = await get("/");
    assert.equal(r.status, 503);
    assert.equal(r.body, "console starting\n");
    assert.equal(await upgrade("/ws/live"), "503");
  });
});

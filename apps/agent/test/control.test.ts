/**
 * The control link against a tiny stand-in console (a ws server in the test) — used ONLY for what the real console
 * cannot easily be made to do: send bad snapshots (NACK), drop the socket, stop answering heartbeats.
 * The real console is tested against the agent in the top-level integration tests.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type AckFrame, type HelloFrame, helloFrameSchema, type NackFrame, parseAgentFrame } from "@trellis/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { cleanup, getText, request, snapshot, startAgent, startApp, within } from "./helpers.ts";

// biome-ignore lint: frames are checked by the protocol schema on receipt
type Frame = any;

/** A stand-in console: records every agent frame and lets the test wait for the next one of a type. */
async function fakeConsole(opts: { autoPong?: boolean } = {}) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", autoPong: opts.autoPong ?? true });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const frames: { type: string; [k: string]: unknown }[] = [];
  const waiters: { type: string; from: number; resolve: (f: Frame) => void }[] = [];
  /** Frames before the cursor were already returned by next(). */
  let cursor = 0;
  let socket: WebSocket | null = null;
  wss.on("connection", (ws) => {
    socket = ws;
    ws.on("message", (data) => {
      const parsed = parseAgentFrame(data.toString());
      assert.ok(parsed.ok, `agent sent an invalid frame: ${(parsed as { error?: string }).error}`);
      const f = parsed.frame as { type: string };
      frames.push(f);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (w.type === f.type && frames.length - 1 >= w.from) {
          waiters.splice(i, 1);
          cursor = frames.length;
          w.resolve(f);
        }
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/agents`,
    frames,
    /** The next frame of `type` not yet returned (or at/after index `from`). */
    next<T = Frame>(type: string, ms = 5_000, from = cursor): Promise<T> {
      const idx = frames.findIndex((f, i) => i >= from && f.type === type);
      if (idx >= 0) {
        cursor = idx + 1;
        return Promise.resolve(frames[idx] as T);
      }
      return within(new Promise<T>((resolve) => waiters.push({ type, from, resolve: resolve as (f: Frame) => void })), ms, `${type} frame`);
    },
    send(frame: unknown) {
      socket!.send(typeof frame === "string" ? frame : JSON.stringify(frame));
    },
    drop() {
      socket!.terminate();
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

describe("control link", () => {
  after(cleanup);

  test("hello, then NACK of bad snapshots keeps the old config serving; a good one is applied, persisted and acked", async () => {
    const fc = await fakeConsole();
    after(() => fc.close());
    const appOld = await startApp("old");
    const appNew = await startApp("new");
    const catalog = (port: number) => ({
      name: "catalog",
      versions: ["v1"],
      endpoints: [{ address: `127.0.0.1:${port}`, version: "v1", instanceId: `c-${port}` }],
    });
    const agent = await startAgent({
      service: "shop",
      appPort: appOld.port,
      snapshot: snapshot("shop", [catalog(appOld.port)], 3),
      args: ["--console", fc.url, "--instance-id", "shop-test-1"],
      env: { TRELLIS_JOIN_TOKEN: "s3cret-join-token" },
    });
    const hello = await fc.next<HelloFrame>("hello");
    assert.ok(helloFrameSchema.safeParse(hello).success);
    assert.equal(hello.token, "s3cret-join-token");
    assert.equal(hello.service, "shop");
    assert.equal(hello.version, "v1");
    assert.equal(hello.instanceId, "shop-test-1");
    assert.equal(hello.configVersion, 3, "resumes with the version held (from the persisted snapshot)");
    assert.equal(hello.inboundAddress, `127.0.0.1:${agent.inbound}`);
    assert.deepEqual(hello.ports, { inbound: agent.inbound, outbound: agent.outbound, admin: agent.admin, app: appOld.port });

    const callCatalog = async () => (await request({ port: agent.outbound, path: "/", headers: { host: "catalog" } })).headers["x-app"];
    assert.equal(await callCatalog(), "old");

    // 1. Schema-invalid snapshot (weights do not sum to 100).
    const bad = snapshot(
      "shop",
      [
        {
          ...catalog(appNew.port),
          versions: ["v1", "v2"],
          split: [
            { version: "v1", weight: 50 },
            { version: "v2", weight: 40 },
          ],
        },
      ],
      4,
    );
    fc.send({ type: "snapshot", version: 4, nonce: "n4", snapshot: bad });
    const nack4 = await fc.next<NackFrame>("nack");
    assert.equal(nack4.version, 4);
    assert.equal(nack4.nonce, "n4");
    assert.match(nack4.error, /services\.0\.split: weights must sum to 100 \(got 90\)/);
    // 2. A snapshot cut for another service.
    fc.send({ type: "snapshot", version: 5, nonce: "n5", snapshot: snapshot("payments", [catalog(appNew.port)], 5) });
    const nack5 = await fc.next<NackFrame>("nack");
    assert.equal(nack5.nonce, "n5");
    assert.match(nack5.error, /for service "payments"/);
    // 3. An older version than the one held.
    fc.send({ type: "snapshot", version: 2, nonce: "n2", snapshot: snapshot("shop", [catalog(appNew.port)], 2) });
    const nack2 = await fc.next<NackFrame>("nack");
    assert.equal(nack2.nonce, "n2");
    assert.match(nack2.error, /older than the applied version 3/);
    // 4. A frame that is not even a valid snapshot frame but names version and nonce.
    fc.send({ type: "snapshot", version: 6, nonce: "n6" });
    fc.send("{not json");
    // Old config still serves.
    assert.equal(await callCatalog(), "old");
    assert.equal(JSON.parse((await getText(agent.admin, "/config")).text).version, 3);
    assert.equal(JSON.parse(readFileSync(join(agent.stateDir, "snapshot.json"), "utf8")).version, 3);

    // A good snapshot: applied, persisted, acked.
    fc.send({ type: "snapshot", version: 7, nonce: "n7", snapshot: snapshot("shop", [catalog(appNew.port)], 7) });
    const ack = await fc.next<AckFrame>("ack");
    assert.deepEqual(ack, { type: "ack", version: 7, nonce: "n7" });
    assert.equal(await callCatalog(), "new");
    assert.equal(JSON.parse((await getText(agent.admin, "/config")).text).version, 7);
    assert.equal(JSON.parse(readFileSync(join(agent.stateDir, "snapshot.json"), "utf8")).version, 7);
    assert.match((await getText(agent.admin, "/metrics")).text, /^trellis_control_connected 1$/m);

    // Rebuilding routes keeps the connection pool of an unchanged endpoint (same upstream socket before and after).
    const portBefore = appNew.requests.at(-1)!.remotePort;
    fc.send({
      type: "snapshot",
      version: 8,
      nonce: "n8",
      snapshot: snapshot(
        "shop",
        [
          { ...catalog(appNew.port), timeoutMs: 5000 },
          { name: "extra", versions: ["v1"], endpoints: [] },
        ],
        8,
      ),
    });
    await fc.next<AckFrame>("ack");
    await callCatalog();
    assert.equal(appNew.requests.at(-1)!.remotePort, portBefore, "pool for an unchanged endpoint is kept");

    const nacks = fc.frames.filter((f) => f.type === "nack").map((f) => (f as NackFrame).nonce);
    assert.deepEqual(nacks, ["n4", "n5", "n2", "n6"]);
    assert.doesNotMatch(agent.stdout(), /s3cret-join-token/, "the token is never logged");
  });

  test("a snapshot whose traffic policy this agent cannot apply is NACKed with the field named, and the agent keeps serving", async () => {
    const fc = await fakeConsole();
    after(() => fc.close());
    const app = await startApp("kept");
    const catalog = { name: "catalog", versions: ["v1", "v2"], endpoints: [{ address: `127.0.0.1:${app.port}`, version: "v1", instanceId: "k1" }] };
    const agent = await startAgent({
      service: "shop",
      appPort: app.port,
      snapshot: snapshot("shop", [catalog], 10),
      args: ["--console", fc.url, "--instance-id", "shop-policy-nack"],
    });
    await fc.next<HelloFrame>("hello");
    const call = async () => (await request({ port: agent.outbound, path: "/", headers: { host: "catalog" } })).status;
    assert.equal(await call(), 200);
    const cases: [number, Record<string, unknown>, RegExp][] = [
      // A retry class this agent does not know.
      [11, { retries: { attempts: 2, retryOn: ["cosmic-rays"] } }, /services\.0\.retries\.retryOn\.0: Invalid option/],
      // A policy field this agent does not know (strict policy objects: never silently ignored).
      [12, { circuitBreaker: { maxRequests: 5, hedging: true } }, /services\.0\.circuitBreaker: Unrecognized key: "hedging"/],
      // A route to a version the service does not have.
      [13, { routes: [{ match: { pathPrefix: "/x" }, version: "v9" }] }, /services\.0\.routes\.0\.version: unknown version v9 of catalog/],
      // Schema-valid but unroutable: a route whose split has only zero weights cannot be applied.
      [
        14,
        {
          routes: [
            {
              match: {},
              split: [
                { version: "v1", weight: 0 },
                { version: "v2", weight: 0 },
              ],
            },
          ],
        },
        /weights must sum to 100|routes nowhere/,
      ],
    ];
    for (const [version, policy, re] of cases) {
      fc.send({ type: "snapshot", version, nonce: `p${version}`, snapshot: snapshot("shop", [{ ...catalog, ...policy }], version) });
      const nack = await fc.next<NackFrame>("nack");
      assert.equal(nack.nonce, `p${version}`);
      assert.match(nack.error, re);
      assert.equal(await call(), 200, "keeps serving with the last good snapshot");
    }
    assert.equal(JSON.parse((await getText(agent.admin, "/config")).text).version, 10);
    // A valid policy is applied and acked.
    fc.send({ type: "snapshot", version: 15, nonce: "p15", snapshot: snapshot("shop", [{ ...catalog, retries: { attempts: 1 } }], 15) });
    assert.equal((await fc.next<AckFrame>("ack")).nonce, "p15");
  });

  test("reconnects after a drop and resumes with the version held; /ready flips once a snapshot is applied", async () => {
    const fc = await fakeConsole();
    after(() => fc.close());
    const app = await startApp("app");
    const agent = await startAgent({ service: "shop", appPort: app.port, args: ["--console", fc.url] });
    const hello1 = await fc.next<HelloFrame>("hello");
    assert.equal(hello1.configVersion, 0);
    assert.equal((await getText(agent.admin, "/ready")).status, 503);
    fc.send({ type: "snapshot", version: 11, nonce: "a", snapshot: snapshot("shop", [{ name: "shop", versions: ["v1"], endpoints: [] }], 11) });
    await fc.next("ack");
    assert.equal((await getText(agent.admin, "/ready")).status, 200);
    const from = fc.frames.length;
    fc.drop();
    const hello2 = await fc.next<HelloFrame>("hello", 5_000, from);
    assert.equal(hello2.configVersion, 11);
    // Traffic never depended on the link.
    assert.equal((await request({ port: agent.inbound, path: "/", headers: { host: "shop" } })).status, 200);
  });

  test("fails over to the next console when its console drops, resumes with the version held; /config and /metrics name the console", async () => {
    const a = await fakeConsole();
    const b = await fakeConsole();
    after(() => {
      a.close();
      b.close();
    });
    const app = await startApp("app");
    const agent = await startAgent({ service: "shop", appPort: app.port, args: ["--console", `${a.url},${b.url}`] });
    assert.equal((await a.next<HelloFrame>("hello")).configVersion, 0);
    a.send({ type: "snapshot", version: 21, nonce: "a21", snapshot: snapshot("shop", [{ name: "shop", versions: ["v1"], endpoints: [] }], 21) });
    await a.next("ack");
    const onA = JSON.parse((await getText(agent.admin, "/config")).text).console;
    assert.equal(onA.console, a.url);
    assert.equal(onA.connected, true);
    assert.deepEqual(onA.consoles, [a.url, b.url]);
    assert.equal(onA.failovers, 0);

    a.close(); // the replica dies: its socket drops and nothing listens there any more
    const helloB = await b.next<HelloFrame>("hello", 3_000);
    assert.equal(helloB.configVersion, 21, "the hello to the other replica carries the version held");
    b.send({ type: "snapshot", version: 22, nonce: "b22", snapshot: snapshot("shop", [{ name: "shop", versions: ["v1"], endpoints: [] }], 22) });
    assert.equal((await b.next<AckFrame>("ack")).nonce, "b22");
    const onB = JSON.parse((await getText(agent.admin, "/config")).text);
    assert.equal(onB.version, 22);
    assert.equal(onB.console.console, b.url);
    assert.equal(onB.console.connected, true);
    assert.equal(onB.console.failovers, 1);
    const metrics = (await getText(agent.admin, "/metrics")).text;
    assert.match(metrics, new RegExp(`trellis_control_console\\{url="${b.url}"\\} 1`));
    assert.match(metrics, new RegExp(`trellis_control_console\\{url="${a.url}"\\} 0`));
    assert.match(metrics, /trellis_control_failovers_total 1/);
    await agent.waitForLine((l) => l.msg === "control link down" && l.next === b.url, 1_000, "link down log naming the next console");
  });

  test("a console that stops answering heartbeats is detected and the link is re-established", async () => {
    const fc = await fakeConsole({ autoPong: false });
    after(() => fc.close());
    const app = await startApp("app");
    const agent = await startAgent({ service: "shop", appPort: app.port, args: ["--console", fc.url, "--heartbeat-ms", "150"] });
    await fc.next("hello");
    const from = fc.frames.length;
    await fc.next("hello", 5_000, from);
    await agent.waitForLine((l) => l.msg === "console not answering heartbeats, reconnecting", 1_000, "heartbeat log");
  });
});

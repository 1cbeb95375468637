/** The tunnel after a 101 (src/proxy/tunnel.ts), over real TCP sockets: both ways, backpressure, half-close, errors. */
import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { Tunnel } from "../src/proxy/tunnel.ts";

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A connected pair of sockets: [the side a peer holds, the side the agent holds]. */
async function pair(allowHalfOpen: boolean): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ allowHalfOpen });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const peer = net.connect({ port: (server.address() as net.AddressInfo).port, host: "127.0.0.1", allowHalfOpen: true });
  return [peer, await accepted];
}

/** app client ↔ [agent: client side | tunnel | upstream side] ↔ app server, and the tunnel's close report. */
async function tunnel(idleMs = 0) {
  const [app, clientSide] = await pair(true);
  const [upstreamSide, server] = await pair(true);
  let closedWith: [number, number] | null = null;
  const closed = new Promise<[number, number]>((resolve) => {
    new Tunnel(clientSide, upstreamSide, idleMs, {
      onTunnelClosed(down, up) {
        closedWith = [down, up];
        resolve(closedWith);
      },
    });
  });
  return { app, server, closed, closedWith: () => closedWith };
}

function readAll(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((r) => s.once("end", () => r(Buffer.concat(chunks))));
}

test("bytes go both ways, a slow reader holds the sender back, and each half-close is relayed", async () => {
  const t = await tunnel();
  const big = Buffer.alloc(16 * 1024 * 1024, 7);
  // The server reads nothing for a while: the tunnel must not buffer 16 MB for it.
  t.server.pause();
  const fullyWritten = new Promise<void>((r) => t.app.end(big, r));
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(t.app.writableLength > 0 || t.app.writableNeedDrain, "the app's writes wait for the slow reader");
  const got = readAll(t.server);
  t.server.resume();
  assert.equal((await got).length, big.length, "all of it, after the app's FIN");
  await fullyWritten;
  // The app half-closed; the server can still answer, then closes its side: both close, the bytes are reported.
  const back = readAll(t.app);
  t.server.end("bye from the server");
  assert.equal((await back).toString(), "bye from the server");
  assert.deepEqual(await t.closed, [19, big.length]);
  t.app.destroy();
  t.server.destroy();
});

test("an error on one side closes both", async () => {
  const t = await tunnel();
  // The app's side was opened allowing half-open: it sees the agent's FIN (its own side stays up to it).
  const appEnded = new Promise((r) => t.app.once("end", r));
  t.app.resume();
  t.app.on("error", () => {});
  t.server.resetAndDestroy();
  await appEnded;
  await t.closed;
  t.app.destroy();
});

test("a tunnel that moves nothing for idleMs is closed", async () => {
  const t = await tunnel(300);
  t.app.on("error", () => {});
  t.app.write("ping");
  const t0 = Date.now();
  await t.closed;
  const ms = Date.now() - t0;
  assert.ok(ms >= 250 && ms < 2_000, `closed after ${ms} ms`);
  t.app.destroy();
  t.server.destroy();
});

/** startPostgres: a real server that takes connections and databases, and leaves nothing behind once stopped. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { test } from "node:test";
import { startPostgres } from "../src/postgres.ts";

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.end();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("a started server creates databases; stop() stops it and removes its directory", async () => {
  const server = await startPostgres();
  try {
    assert.ok(existsSync(server.dir));
    assert.equal(await accepts(server.port), true);
    assert.equal(await server.createDatabase("one"), `postgres://trellis@127.0.0.1:${server.port}/one`);
    await assert.rejects(server.createDatabase("one"), /already exists/, "createdb reached the server");
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(server.dir), false);
  assert.equal(await accepts(server.port), false);
  await server.stop(); // idempotent
});

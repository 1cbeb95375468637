/** The shop's MeshClient in capture mode: an ordinary by-name call, origin-form, no proxy. */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { MeshClient } from "../src/runtime/mesh-client.ts";

test("directPort: calls http://<service>:<port>/path by name with no proxy (capture mode), Host carries the port", async () => {
  const seen: { url?: string; host?: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, host: req.headers.host });
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const client = new MeshClient({ directPort: port });
  try {
    assert.deepEqual(await client.json("localhost", "GET", "/products?x=1"), { ok: true });
    assert.deepEqual(seen, [{ url: "/products?x=1", host: `localhost:${port}` }]);
  } finally {
    client.close();
    await new Promise((r) => server.close(r));
  }
});

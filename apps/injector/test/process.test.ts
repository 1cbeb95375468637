/**
 * The `trellis-injector` process as its container runs it: TLS from files, config from the environment, /healthz over
 * HTTPS, exit 0 on SIGTERM; a bad setting stops it at start with a stable code.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { selfSignedCert } from "./support/tls.ts";
import { call } from "./support/webhook.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "injector-proc-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address() as { port: number };
  s.close();
  return port;
}

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  return { child, output: () => out };
}

test("serves /healthz over HTTPS with the mounted certificate, exits 0 on SIGTERM", async () => {
  const { key, cert } = selfSignedCert();
  writeFileSync(join(dir, "tls.key"), key);
  writeFileSync(join(dir, "tls.crt"), cert);
  const port = await freePort();
  const { child, output } = start({ PORT: String(port), TLS_CERT_FILE: join(dir, "tls.crt"), TLS_KEY_FILE: join(dir, "tls.key") });
  const deadline = Date.now() + 20_000;
  while (!output().includes("injector listening")) {
    assert.ok(Date.now() < deadline, `no "injector listening" line: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const health = await call({ port, ca: cert, close: async () => {} }, "GET", "/healthz");
  assert.equal(health.status, 200);
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
});

test("a bad setting stops it at start with TRELLIS_INJECTOR_CONFIG", async () => {
  const { child, output } = start({
    TRELLIS_CONSOLE_URL: "http://console:3000",
    TLS_CERT_FILE: join(dir, "tls.crt"),
    TLS_KEY_FILE: join(dir, "tls.key"),
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 1);
  assert.match(output(), /TRELLIS_INJECTOR_CONFIG/);
});

/**
 * TLS to the console with the real console and real agents (through the kit): the console serves https + wss with a
 * certificate from its own CA; an agent given that CA (`--console-ca`) joins; an agent whose CA did not sign the
 * console's certificate refuses it and never sends its hello (a recording wss server sees no frame at all); an agent
 * refuses to send its token over plaintext ws:// to a console beyond loopback.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { caCertPin, isLoopbackHost } from "@trellis/protocol";
import { agentCli, type ConsoleHandle, freePort, spawnNode, startAgent, startConsole, stopAll, TEST_ADMIN_PASSWORD, tempDir } from "@trellis/testkit";
import { WebSocketServer } from "ws";
import { loadConfig } from "../server/config.ts";
import { serverNames, wantsTls } from "../server/console/tls.ts";
import { CertificateAuthority } from "../server/security/ca.ts";

const env = (vars: Record<string, string>) => vars as NodeJS.ProcessEnv;

describe("when the console serves TLS (pure)", () => {
  test("beyond loopback always; on loopback when asked", () => {
    for (const h of ["127.0.0.1", "::1", "[::1]", "localhost", "127.1.2.3"]) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "console.example"]) assert.equal(isLoopbackHost(h), false, h);
    assert.equal(wantsTls(loadConfig(env({ HOST: "0.0.0.0" }))), true);
    assert.equal(wantsTls(loadConfig(env({ HOST: "127.0.0.1" }))), false);
    assert.equal(wantsTls(loadConfig(env({ HOST: "127.0.0.1", TRELLIS_TLS: "1" }))), true);
  });

  test("the console's certificate names its host, loopback and the extra names", () => {
    const n = serverNames("10.1.2.3", ["console.example", "192.168.0.9"]);
    assert.deepEqual(n.dns.sort(), ["console.example", "localhost"]);
    assert.deepEqual(n.ips.sort(), ["10.1.2.3", "127.0.0.1", "192.168.0.9", "::1"]);
  });
});

describe("agents and a console over TLS", { concurrency: false }, () => {
  let console_: ConsoleHandle;
  let consoleCa: string;
  /** A CA that did not sign the console's certificate, and a wss server whose certificate it signed. */
  let foreignCa: string;
  let foreign: { url: string; connections: number; frames: string[]; close(): void };

  before(async () => {
    console_ = await startConsole({ env: env({ TRELLIS_TLS: "1" }), timeoutMs: 90_000 });
    consoleCa = path.join(console_.dataDir, "ca", "ca.crt");
    const dir = tempDir("foreign-ca");
    const { ca } = await CertificateAuthority.open(dir, "elsewhere.local", 3600);
    foreignCa = path.join(dir, "ca", "ca.crt");
    const cert = await ca.issueServer(["localhost"], ["127.0.0.1"]);
    const server = https.createServer({ cert: cert.chain, key: cert.keyPem });
    const wss = new WebSocketServer({ server });
    const seen = { connections: 0, frames: [] as string[] };
    wss.on("connection", (ws) => {
      seen.connections++;
      ws.on("message", (d) => seen.frames.push(d.toString()));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    foreign = {
      url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}/ws/agents`,
      get connections() {
        return seen.connections;
      },
      frames: seen.frames,
      close: () => {
        wss.close();
        server.closeAllConnections();
        server.close();
      },
    };
  });
  after(async () => {
    foreign?.close();
    await stopAll();
  });

  test("the console listens on https, and an agent trusting its CA joins over wss", async () => {
    assert.match(console_.url, /^https:\/\//);
    assert.match(console_.wsAgents, /^wss:\/\//);
    const web = await startAgent({
      service: "web",
      appPort: await freePort(),
      console: console_.wsAgents,
      token: console_.token,
      args: ["--console-ca", consoleCa],
    });
    await web.waitForLine((l) => l.msg === "certificate installed", 20_000, "joined and got its certificate");
    await console_.proc.waitFor((l) => l.msg === "agent connected" && l.service === "web", 5_000, "console saw web");
    await web.stop();
  });

  test("browsers get https: sign-in over TLS sets a Secure session cookie; the certificate chains to the mesh CA", async () => {
    const ca = readFileSync(consoleCa, "utf8");
    const body = JSON.stringify({ username: "admin", password: TEST_ADMIN_PASSWORD });
    const res = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      const req = https.request(
        `${console_.url}/api/auth/signin`,
        { method: "POST", ca, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, cookie: String(r.headers["set-cookie"] ?? "") });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    assert.equal(res.status, 200);
    assert.match(res.cookie, /trellis_session=.*; Secure/);
  });

  test("an agent refuses a console whose certificate its CA does not sign: logged, token never sent", async () => {
    // The real console, but the agent trusts another CA.
    const a = await startAgent({
      service: "cart",
      appPort: await freePort(),
      console: console_.wsAgents,
      token: console_.token,
      args: ["--console-ca", foreignCa],
    });
    const refused = await a.waitForLine((l) => l.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED", 15_000, "untrusted console refused");
    assert.match(String(refused.msg), /not signed by the CA we trust; join token not sent/);
    assert.ok(!a.lines.some((l) => l.msg === "control link up"), "the link never came up");
    assert.ok(!console_.proc.lines.some((l) => l.service === "cart"), "the console saw cart's hello");
    await a.stop();

    // A server with a foreign certificate, the agent trusting the console's CA: not one frame reaches it.
    const b = await startAgent({
      service: "orders",
      appPort: await freePort(),
      console: foreign.url,
      token: "secret-token-never-sent",
      args: ["--console-ca", consoleCa],
    });
    await b.waitForLine((l) => l.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED", 15_000, "foreign console refused");
    // A second attempt (after the backoff) is refused too.
    await b.waitForLine(
      (l) => l.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED" && l !== b.lines.find((x) => x.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED"),
      15_000,
      "refused again",
    );
    await b.stop();
    assert.equal(foreign.connections, 0, "no websocket was opened on the foreign server");
    assert.deepEqual(foreign.frames, [], "no frame (no hello, no token) reached it");
  });

  test("--console-ca-hash: the token comes with the CA's hash (as kubeadm's); the right hash joins, another is refused", async () => {
    const pin = caCertPin(readFileSync(consoleCa, "utf8"));
    const printed = await console_.proc.waitFor((l) => l.msg === "console TLS", 1_000, "console TLS log");
    assert.match(String(printed.agentsTrust), new RegExp(`--console-ca-hash ${pin}`), "the console prints the hash agents take");
    const ok = await startAgent({
      service: "reviews",
      appPort: await freePort(),
      console: console_.wsAgents,
      token: console_.token,
      args: ["--console-ca-hash", pin],
    });
    await ok.waitForLine((l) => l.msg === "certificate installed", 20_000, "joined with the pinned CA");
    await ok.stop();

    const wrongPin = caCertPin(readFileSync(foreignCa, "utf8"));
    const bad = await startAgent({
      service: "ratings",
      appPort: await freePort(),
      console: console_.wsAgents,
      token: console_.token,
      args: ["--console-ca-hash", wrongPin],
    });
    await bad.waitForLine((l) => l.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED", 15_000, "pin mismatch refused");
    await bad.stop();
    assert.ok(!console_.proc.lines.some((l) => l.service === "ratings"), "the console saw ratings' hello");

    const before = foreign.connections;
    const c = await startAgent({
      service: "shipping",
      appPort: await freePort(),
      console: foreign.url,
      token: "secret-token-never-sent",
      args: ["--console-ca-hash", pin],
    });
    await c.waitForLine((l) => l.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED", 15_000, "foreign console refused by pin");
    await c.stop();
    assert.equal(foreign.connections, before, "no websocket was opened on the foreign server");
    assert.deepEqual(foreign.frames, []);
  });

  test("replicas: an untrusted first console is refused (token never sent) and the agent fails over to the next one", async () => {
    const pin = caCertPin(readFileSync(consoleCa, "utf8"));
    const before = { connections: foreign.connections, frames: foreign.frames.length };
    const agent = await startAgent({
      service: "billing",
      appPort: await freePort(),
      console: [foreign.url, console_.wsAgents],
      token: console_.token,
      args: ["--console-ca-hash", pin],
    });
    const refused = await agent.waitForLine((l) => l.code === "TRELLIS_CONTROL_CONSOLE_UNTRUSTED", 15_000, "the foreign first console refused");
    assert.equal(refused.console, foreign.url);
    assert.equal(refused.next, console_.wsAgents, "the next dial goes to the other console");
    await agent.waitForLine((l) => l.msg === "certificate installed", 20_000, "joined the trusted console");
    const up = agent.lines.find((l) => l.msg === "control link up");
    assert.equal(up?.console, console_.wsAgents);
    await agent.stop();
    assert.equal(foreign.connections, before.connections, "no websocket was opened on the untrusted console");
    assert.equal(foreign.frames.length, before.frames, "no frame (no hello, no token) reached it");
  });

  test("an agent refuses to send its token over plaintext ws:// to a console beyond loopback", async () => {
    const dir = tempDir("agent-plaintext");
    writeFileSync(path.join(dir, "token"), "t0ken\n");
    const p = spawnNode("agent plaintext", [
      agentCli,
      "--service",
      "web",
      "--version",
      "v1",
      "--app-port",
      "9",
      "--state-dir",
      dir,
      "--console",
      "ws://10.255.255.1:3000/ws/agents",
      "--token-file",
      path.join(dir, "token"),
    ]);
    const exit = await p.finished;
    assert.equal(exit.code, 2);
    assert.match(
      p.output.join("\n"),
      /TRELLIS_CONTROL_PLAINTEXT_CONSOLE: refusing to send the join token over plaintext ws:\/\/ to 10\.255\.255\.1:3000/,
    );
  });
});

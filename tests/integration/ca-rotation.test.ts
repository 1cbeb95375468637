/**
 * CA rotation under load (issue 13, scope 4): catalog in STRICT, steady load web → catalog over mTLS through both
 * agents, while the console rotates the mesh CA through its three phases — first to a root it generates, then to an
 * operator's intermediate CA (plug-in, made with openssl) with a console restart in the middle of that rotation.
 * Every request must succeed; at the end both agents hold certificates chaining to the new root and trust nothing
 * else, which a fresh handshake against catalog's inbound port confirms from outside.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type AgentHandle,
  adminSession,
  type ConsoleHandle,
  type ConsoleSession,
  eventually,
  startConsole,
  stopAll,
  TrpcError,
  tempDir,
} from "@trellis/testkit";
import { CertificateAuthority } from "../../apps/web/server/security/ca.ts";
import type { RotationView } from "../../apps/web/server/security/rotation-view.ts";
import { type CallerApp, type EchoApp, request, type SteadyLoad, startCatalogAndWeb, startLoad } from "../support/apps.ts";
import { issueClientCert, openCa, tlsRequest } from "../support/pki.ts";
import { makePluginCa } from "../support/plugin-ca.ts";

interface AgentIdentity {
  chain: string;
  trust: { generation: number; roots: string[]; certificateRoot: string | null };
}

async function identityOf(agent: AgentHandle): Promise<AgentIdentity> {
  return JSON.parse((await request(agent.admin, "/identity")).body.toString());
}

describe("CA rotation under load", () => {
  let consoleProc: ConsoleHandle;
  let catalogApp: EchoApp;
  let webApp: CallerApp;
  let catalogAgent: AgentHandle;
  let webAgent: AgentHandle;
  let admin: ConsoleSession;

  let poolChanges = 0;
  /**
   * New agent-to-agent mTLS connections under the phase's certificates and bundle: a changed circuit-breaker
   * connection cap makes web's agent replace its pool to catalog; then some load must flow over the new pool.
   */
  async function freshConnections(load: SteadyLoad) {
    const cap = 100 + ++poolChanges;
    await admin.mutate("traffic.update", { service: "catalog", patch: { circuitBreaker: { maxConnections: cap } } });
    await eventually(
      async () => (await request(webAgent.admin, "/config")).body.toString().includes(`"maxConnections":${cap}`),
      20_000,
      `web's agent has the connection cap ${cap}`,
    );
    const before = load.ok;
    await eventually(async () => load.ok >= before + 30, 20_000, "requests over the new pool");
  }

  /** Waits until every agent reached the phase (both connected), runs load over fresh connections, then advances. */
  async function advanceWhenReady(phase: RotationView["phase"], load: SteadyLoad): Promise<RotationView> {
    await eventually(
      async () => {
        const v = await admin.query<RotationView>("ca.rotation");
        return v.phase === phase && v.ready && v.agents.length === 2 && v;
      },
      60_000,
      `every agent through phase ${phase}`,
    );
    await freshConnections(load);
    return admin.mutate<RotationView>("ca.advanceRotation");
  }

  async function assertOnlyRoot(root: string, what: string) {
    for (const agent of [webAgent, catalogAgent]) {
      const id = await identityOf(agent);
      assert.deepEqual(id.trust.roots, [root], `${what}: an agent trusts exactly the new root`);
      assert.equal(id.trust.certificateRoot, root, `${what}: an agent's certificate chains to the new root`);
    }
  }

  before(async () => {
    consoleProc = await startConsole();
    ({ catalogApp, catalogAgent, webApp, webAgent } = await startCatalogAndWeb(consoleProc));
    admin = await adminSession(consoleProc.url);
    await admin.mutate("security.setMtls", { name: "catalog", mode: "STRICT" });
    await eventually(
      async () => {
        const web = JSON.parse((await request(webAgent.admin, "/config")).body.toString());
        const catalog = web.snapshot?.services?.find((s: { name: string }) => s.name === "catalog");
        return catalog?.mtls === "STRICT" && catalog.endpoints.length > 0 && (await request(webAgent.inbound, "/call/catalog/warm")).status === 200;
      },
      20_000,
      "catalog STRICT and reachable from web",
    );
  });

  after(async () => {
    await stopAll();
    await catalogApp?.close();
    await webApp?.close();
  });

  test("to a generated root: three phases, zero failed requests, the old root gone from every agent", async () => {
    const oldRoot = (await identityOf(catalogAgent)).trust.certificateRoot;
    assert.ok(oldRoot, "catalog starts with a certificate from the first root");
    const oldCa = await openCa(consoleProc.dataDir);
    const load = startLoad(webAgent);
    await eventually(async () => load.ok >= 100, 20_000, "load running before the rotation");
    const t0 = Date.now();
    const started = await admin.mutate<RotationView>("ca.startRotation", {});
    assert.equal(started.phase, "add-root");
    const newRoot = started.next!.root;
    assert.notEqual(newRoot, oldRoot);
    const phases: Record<string, number> = {};
    let mark = Date.now();
    for (const phase of ["add-root", "reissue", "remove-root"] as const) {
      const v = await advanceWhenReady(phase, load);
      phases[phase] = Date.now() - mark;
      mark = Date.now();
      if (phase === "add-root") assert.equal(v.phase, "reissue");
    }
    const done = await admin.query<RotationView>("ca.rotation");
    await freshConnections(load); // the finished state, from new connections too
    const result = await load.stop();
    console.log(JSON.stringify({ rotation: "generated root", ...result, failures: result.failures.length, rotationMs: Date.now() - t0, phases }));
    assert.deepEqual(result.failures.slice(0, 5), [], `${result.failures.length} failed requests`);
    assert.ok(result.ok > 100, `load ran (${result.ok} requests)`);
    assert.equal(done.phase, "idle");
    assert.equal(done.active.root, newRoot);
    await assertOnlyRoot(newRoot, "generated root");

    // From outside: catalog's inbound serves a certificate from the new root and refuses a client of the old one.
    const newCa = await CertificateAuthority.load(path.join(consoleProc.dataDir, "ca", "authorities", done.active.id), "trellis.local", 3600);
    const fresh = await tlsRequest(catalogAgent.inbound, "/after-rotation", await issueClientCert(newCa, "web"), newCa.rootPem);
    assert.equal(fresh.status, 200);
    await assert.rejects(tlsRequest(catalogAgent.inbound, "/old-client", await issueClientCert(oldCa, "web"), newCa.rootPem));
    // The new authority's key is private to the console.
    assert.equal(fs.statSync(path.join(consoleProc.dataDir, "ca", "authorities", done.active.id, "ca.key")).mode & 0o777, 0o600);
  });

  test("to an operator's intermediate CA, with a console restart mid-rotation: zero failed requests", async () => {
    const pluginDir = tempDir("plugin-ca");
    const { rootPem, intermediatePem } = makePluginCa(pluginDir);
    const pluginRoot = new X509Certificate(rootPem).fingerprint256;
    const load = startLoad(webAgent);
    await eventually(async () => load.ok >= 100, 20_000, "load running before the rotation");
    const t0 = Date.now();
    const started = await admin.mutate<RotationView>("ca.startRotation", { pluginDir });
    assert.equal(started.next?.root, pluginRoot);
    await advanceWhenReady("add-root", load);

    // Restart the console in phase 2: the rotation resumes where it was, agents reconnect, traffic never notices.
    const port = Number(new URL(consoleProc.url).port);
    await consoleProc.proc.stop("SIGTERM", 5_000);
    consoleProc = await startConsole({ dataDir: consoleProc.dataDir, port, token: consoleProc.token });
    const resumed = await admin.query<RotationView>("ca.rotation");
    assert.equal(resumed.phase, "reissue");

    await advanceWhenReady("reissue", load);
    await advanceWhenReady("remove-root", load);
    const done = await admin.query<RotationView>("ca.rotation");
    await freshConnections(load);
    const result = await load.stop();
    console.log(JSON.stringify({ rotation: "plug-in intermediate", ...result, failures: result.failures.length, rotationMs: Date.now() - t0 }));
    assert.deepEqual(result.failures.slice(0, 5), [], `${result.failures.length} failed requests`);
    assert.ok(result.ok > 100, `load ran (${result.ok} requests)`);
    assert.equal(done.phase, "idle");
    assert.equal(done.active.root, pluginRoot);
    await assertOnlyRoot(pluginRoot, "plug-in CA");
    // Agents present leaf + the operator's intermediate; the operator's root verifies it from outside.
    const chain = (await identityOf(catalogAgent)).chain;
    assert.ok(chain.includes(intermediatePem.trim().split("\n")[1]), "the chain carries the intermediate");
    const pluginCa = await CertificateAuthority.load(path.join(consoleProc.dataDir, "ca", "authorities", done.active.id), "trellis.local", 3600);
    const fresh = await tlsRequest(catalogAgent.inbound, "/after-plugin", await issueClientCert(pluginCa, "web"), rootPem);
    assert.equal(fresh.status, 200);
  });

  test("a plug-in CA whose key is not the intermediate's, or whose chain misses the root, is refused; nothing starts", async () => {
    const dir = tempDir("bad-plugin-ca");
    makePluginCa(dir);
    fs.copyFileSync(path.join(dir, "root-key.pem"), path.join(dir, "ca-key.pem"));
    const wrongKey = await admin.mutate("ca.startRotation", { pluginDir: dir }).catch((e: TrpcError) => e);
    assert.ok(wrongKey instanceof TrpcError && wrongKey.status === 400, String(wrongKey));
    assert.match(wrongKey.message, /ca-key\.pem does not match ca-cert\.pem/);
    const other = tempDir("other-plugin-ca");
    makePluginCa(other);
    makePluginCa(dir); // a fresh, consistent set … whose root is then replaced by another operator's
    fs.copyFileSync(path.join(other, "root-cert.pem"), path.join(dir, "root-cert.pem"));
    const foreignRoot = await admin.mutate("ca.startRotation", { pluginDir: dir }).catch((e: TrpcError) => e);
    assert.ok(foreignRoot instanceof TrpcError && foreignRoot.status === 400, String(foreignRoot));
    assert.match(foreignRoot.message, /is not signed by/);
    assert.equal((await admin.query<RotationView>("ca.rotation")).phase, "idle");
  });
});

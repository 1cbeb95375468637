/**
 * Security end to end with real processes: the console (CA, policies, sign-in, join tokens), two real agents (web →
 * catalog) and real apps. Covers issue #4's "Done when": STRICT refuses plaintext / foreign-CA / expired certificates
 * and lets mesh callers through with their SPIFFE id; PERMISSIVE accepts both; openssl s_client sees the mesh chain;
 * authorization allow-lists; sessions, roles and CSRF on the console; bad and revoked join tokens.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type AgentHandle,
  adminSession,
  type ConsoleHandle,
  ConsoleSession,
  eventually,
  startAgent,
  startConsole,
  stopAll,
  type TrpcError,
  tempDir,
} from "@trellis/testkit";
import WebSocket from "ws";
import { type CallerApp, type EchoApp, request, startCatalogAndWeb, startEchoApp } from "../support/apps.ts";
import { issueClientCert, openCa, tlsRequest } from "../support/pki.ts";

const WEB_ID = "spiffe://trellis.local/service/web";
const CATALOG_ID = "spiffe://trellis.local/service/catalog";

async function adminJson(agent: AgentHandle, p: string) {
  const r = await request(agent.admin, p);
  return JSON.parse(r.body.toString());
}

/** The mTLS mode the agent's own service has in its applied snapshot. */
async function appliedMode(agent: AgentHandle, service: string): Promise<string | undefined> {
  const cfg = await adminJson(agent, "/config");
  return cfg.snapshot?.services?.find((s: { name: string }) => s.name === service)?.mtls;
}

function openssl(args: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile("openssl", args, { timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
    p.stdin?.end(input);
  });
}

describe("security: mTLS, identities, authorization, console access", { concurrency: false }, () => {
  let consoleProc: ConsoleHandle;
  let admin: ConsoleSession;
  let catalogApp: EchoApp;
  let webApp: CallerApp;
  let catalogAgent: AgentHandle;
  let webAgent: AgentHandle;
  let caPem: string;

  async function setMode(mode: string) {
    await admin.mutate("security.setMtls", { name: "catalog", mode });
    await eventually(
      async () => (await appliedMode(catalogAgent, "catalog")) === mode && (await appliedMode(webAgent, "catalog")) === mode,
      15_000,
      `catalog ${mode} applied`,
    );
  }

  before(async () => {
    consoleProc = await startConsole();
    admin = await adminSession(consoleProc.url);
    ({ catalogApp, catalogAgent, webApp, webAgent } = await startCatalogAndWeb(consoleProc));
    for (const a of [catalogAgent, webAgent]) await eventually(async () => (await adminJson(a, "/identity"))?.spiffeId, 15_000, "agent certificate");
    await eventually(
      async () =>
        (await adminJson(webAgent, "/config")).snapshot?.services?.some(
          (s: { name: string; endpoints: unknown[] }) => s.name === "catalog" && s.endpoints.length > 0,
        ),
      10_000,
      "web knows catalog",
    );
    caPem = fs.readFileSync(path.join(consoleProc.dataDir, "ca", "ca.crt"), "utf8");
  });

  after(async () => {
    await stopAll();
    await catalogApp?.close();
    await webApp?.close();
  });

  test("the CA lives in <data>/ca with a 0600 key; agents hold certificates with their SPIFFE id", async () => {
    assert.equal(fs.statSync(path.join(consoleProc.dataDir, "ca", "ca.key")).mode & 0o777, 0o600);
    const id = await adminJson(catalogAgent, "/identity");
    assert.equal(id.spiffeId, CATALOG_ID);
    const leaf = new X509Certificate(id.chain);
    assert.ok(leaf.verify(new X509Certificate(caPem).publicKey), "issued by the mesh CA");
    assert.match(leaf.subjectAltName ?? "", /URI:spiffe:\/\/trellis\.local\/service\/catalog/);
    const hours = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 3600_000;
    assert.ok(hours > 23.9 && hours < 24.1, `default lifetime 24 h (got ${hours})`);
    assert.ok(!consoleProc.proc.output.some((l) => l.includes("PRIVATE KEY")), "no key in the console's output");
  });

  test("STRICT: plaintext, a foreign CA and an expired certificate are refused; a mesh caller passes with its SPIFFE id", async () => {
    await setMode("STRICT");
    // Plaintext straight to the inbound port.
    await assert.rejects(request(catalogAgent.inbound, "/plain", { timeoutMs: 5_000 }), "plaintext refused");
    // A client certificate from another CA (right SPIFFE id, wrong issuer).
    const foreign = await openCa(tempDir("foreign-ca"));
    await assert.rejects(tlsRequest(catalogAgent.inbound, "/foreign", await issueClientCert(foreign, "web"), caPem), "foreign CA refused");
    // A certificate from the mesh CA that has expired.
    const meshCa = await openCa(consoleProc.dataDir, 60);
    await assert.rejects(
      tlsRequest(catalogAgent.inbound, "/expired", await issueClientCert(meshCa, "web", Date.now() - 3600_000), caPem),
      "expired refused",
    );
    // No certificate at all.
    await assert.rejects(tlsRequest(catalogAgent.inbound, "/nocert", null, caPem), "no client certificate refused");
    assert.ok(!catalogApp.seen.some((r) => ["/plain", "/foreign", "/expired", "/nocert"].includes(r.url)), "none reached the app");

    // A valid mesh certificate works...
    const ok = await tlsRequest(catalogAgent.inbound, "/direct", await issueClientCert(meshCa, "web"), caPem);
    assert.equal(ok.status, 200);
    // ...and so does the mesh path: web's agent calls catalog over mTLS; catalog's agent tells the app who called,
    // from the certificate (a header the caller sets is dropped).
    const res = await request(webAgent.inbound, "/call/catalog/who", {
      headers: { "x-trellis-peer-identity": "spiffe://trellis.local/service/admin" },
    });
    assert.equal(res.status, 200, res.body.toString());
    const seen = catalogApp.seen.find((r) => r.url === "/who")!;
    assert.equal(seen.headers["x-trellis-peer-identity"], WEB_ID);

    const metrics = (await request(catalogAgent.admin, "/metrics")).body.toString();
    assert.match(metrics, /trellis_inbound_mtls_mode\{mode="STRICT"\} 1/);
    assert.match(metrics, /trellis_inbound_tls_handshake_failures_total [1-9]/);
  });

  test("openssl s_client against the STRICT inbound port shows the chain from the mesh CA", async () => {
    const dir = tempDir("s-client");
    const client = await issueClientCert(await openCa(consoleProc.dataDir), "web");
    fs.writeFileSync(path.join(dir, "ca.crt"), caPem);
    fs.writeFileSync(path.join(dir, "client.key"), client.key, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "client.crt"), client.cert);
    const out = await openssl(
      [
        "s_client",
        "-connect",
        `127.0.0.1:${catalogAgent.inbound}`,
        "-showcerts",
        "-CAfile",
        path.join(dir, "ca.crt"),
        "-cert",
        path.join(dir, "client.crt"),
        "-key",
        path.join(dir, "client.key"),
      ],
      "",
    );
    assert.match(out.stdout, /Certificate chain/);
    assert.match(out.stdout, /s:CN ?= ?catalog/);
    assert.match(out.stdout, /i:CN ?= ?Trellis mesh CA/);
    assert.match(out.stdout, /Verify return code: 0 \(ok\)/);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out.stdout)![0];
    assert.match(new X509Certificate(pem).subjectAltName ?? "", /URI:spiffe:\/\/trellis\.local\/service\/catalog/);
  });

  test("the console sees the web → catalog edge as mTLS", async () => {
    for (let i = 0; i < 10; i++) assert.equal((await request(webAgent.inbound, `/call/catalog/t/${i}`)).status, 200);
    await eventually(
      async () => (await admin.liveEdges()).find((e) => e.source === "web" && e.destination === "catalog" && e.mtlsShare > 0.5),
      10_000,
      "mTLS edge in the live graph",
    );
  });

  test("PERMISSIVE accepts plaintext and mTLS", async () => {
    await setMode("PERMISSIVE");
    const plain = await request(catalogAgent.inbound, "/plain-ok");
    assert.equal(plain.status, 200);
    assert.equal(catalogApp.seen.find((r) => r.url === "/plain-ok")!.headers["x-trellis-peer-identity"], undefined);
    const res = await request(webAgent.inbound, "/call/catalog/permissive");
    assert.equal(res.status, 200);
    assert.equal(catalogApp.seen.find((r) => r.url === "/permissive")!.headers["x-trellis-peer-identity"], WEB_ID, "mesh callers still use mTLS");
    const ok = await tlsRequest(catalogAgent.inbound, "/tls-ok", await issueClientCert(await openCa(consoleProc.dataDir), "web"), caPem);
    assert.equal(ok.status, 200);
  });

  test("authorization: an unlisted caller gets 403 rbac-denied (counted); a listed one passes", async () => {
    const { id } = await admin.mutate<{ id: string }>("security.addRule", { name: "catalog", rule: { principals: ["cart"] } });
    await eventually(
      async () => (await adminJson(catalogAgent, "/config")).snapshot.services.find((s: { name: string }) => s.name === "catalog").authorization,
      10_000,
      "policy applied",
    );
    const denied = await request(webAgent.inbound, "/call/catalog/denied");
    assert.equal(denied.status, 403);
    assert.equal(denied.headers["x-trellis-error"], "rbac-denied");
    assert.ok(!catalogApp.seen.some((r) => r.url === "/denied"), "the app never saw it");
    const metrics = (await request(catalogAgent.admin, "/metrics")).body.toString();
    assert.match(metrics, new RegExp(`trellis_authz_denied_total\\{destination_service="catalog",principal="${WEB_ID}"\\} 1`));
    await eventually(
      async () => (await admin.query<{ denials: { total: number } }>("security.service", { name: "catalog" })).denials.total >= 1,
      10_000,
      "denial visible in the console",
    );

    await admin.mutate("security.addRule", { name: "catalog", rule: { principals: ["web"], methods: ["GET"], paths: ["/allowed"] } });
    await eventually(async () => (await request(webAgent.inbound, "/call/catalog/allowed/1")).status === 200, 10_000, "listed caller passes");
    assert.equal((await request(webAgent.inbound, "/call/catalog/other")).status, 403, "path prefix is enforced");
    await admin.mutate("security.removeRule", { id });
  });

  test("without a session: pages redirect to sign-in, tRPC is 401, /ws/live is refused", async () => {
    for (const p of ["/", "/services", "/services/catalog", "/agents", "/settings", "/history", "/traces"]) {
      const res = await fetch(`${consoleProc.url}${p}`, { redirect: "manual" });
      assert.ok([302, 303, 307].includes(res.status), `${p}: ${res.status}`);
      assert.match(res.headers.get("location") ?? "", /^\/signin/);
    }
    assert.equal((await fetch(`${consoleProc.url}/signin`)).status, 200);
    for (const p of ["graph.live", "services.list", "agents.list", "security.users", "revisions.list", "traces.stats", "telemetry.policy"]) {
      assert.equal((await fetch(`${consoleProc.url}/api/trpc/${p}`)).status, 401, p);
    }
    const bad = new ConsoleSession(consoleProc.url);
    await assert.rejects(bad.mutate("security.setMtls", { name: "catalog", mode: "DISABLE" }), (e: TrpcError) => e.status === 401);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${consoleProc.url.replace(/^http/, "ws")}/ws/live`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => resolve(-1));
    });
    assert.equal(status, 401);
    await assert.rejects(ConsoleSession.signIn(consoleProc.url, "admin", "wrong-password"));
  });

  test("a viewer can read but not mutate; mutations need the CSRF header", async () => {
    await admin.mutate("security.createUser", { username: "vera", password: "viewer-password-1", role: "viewer" });
    const viewer = await ConsoleSession.signIn(consoleProc.url, "vera", "viewer-password-1");
    assert.ok((await viewer.query<unknown[]>("services.list")).length > 0);
    await assert.rejects(viewer.mutate("security.setMtls", { name: "catalog", mode: "DISABLE" }), (e: TrpcError) => e.status === 403);
    await assert.rejects(viewer.query("security.users"), (e: TrpcError) => e.status === 403);
    // An admin's cookie without the CSRF header (what a cross-site form would send) is refused.
    const res = await fetch(`${consoleProc.url}/api/trpc/security.setMtls`, {
      method: "POST",
      headers: { cookie: admin.headers.cookie, "content-type": "application/json" },
      body: JSON.stringify({ name: "catalog", mode: "DISABLE" }),
    });
    assert.equal(res.status, 403);
    const crossSite = await fetch(`${consoleProc.url}/api/trpc/security.setMtls`, {
      method: "POST",
      headers: { cookie: admin.headers.cookie, "content-type": "application/json", "x-trellis-csrf": "1", origin: "http://evil.example" },
      body: JSON.stringify({ name: "catalog", mode: "DISABLE" }),
    });
    assert.equal(crossSite.status, 403);
    assert.equal((await admin.query<{ mtls: string }>("security.service", { name: "catalog" })).mtls, "PERMISSIVE", "nothing changed");
  });

  test("join tokens: a bad token is refused; a created token works until revoked", async () => {
    const app = await startEchoApp("intruder");
    try {
      const bad = await startAgent({
        service: "intruder",
        version: "v1",
        appPort: app.port,
        console: consoleProc.wsAgents,
        token: "not-a-valid-token",
      });
      await bad.proc.waitFor((l) => l.msg === "console error" && l.code === "unauthorized", 10_000, "refused");
      await consoleProc.proc.waitFor((l) => l.msg === "agent rejected" && l.reason === "invalid join token", 5_000, "rejection logged");
      assert.ok(!consoleProc.proc.output.some((l) => l.includes("not-a-valid-token") || l.includes(consoleProc.token)), "tokens never logged");
      await bad.proc.stop();

      const created = await admin.mutate<{ id: string; token: string }>("security.createToken", { name: "ci" });
      const good = await startAgent({ service: "reports", version: "v1", appPort: app.port, console: consoleProc.wsAgents, token: created.token });
      await eventually(
        async () => (await adminJson(good, "/identity"))?.spiffeId === "spiffe://trellis.local/service/reports",
        10_000,
        "joined with the new token",
      );
      const listed = await admin.query<{ id: string; revokedAt: string | null }[]>("security.tokens");
      assert.ok(listed.some((t) => t.id === created.id && !t.revokedAt));
      assert.ok(!JSON.stringify(listed).includes(created.token), "token values are not listed");
      await admin.mutate("security.revokeToken", { id: created.id });
      await good.proc.waitFor((l) => l.msg === "console error" && l.code === "token-revoked", 10_000, "disconnected on revoke");
      await good.proc.waitFor((l) => l.msg === "console error" && l.code === "unauthorized", 15_000, "refused when it comes back");
    } finally {
      await app.close();
    }
  });
  test("mTLS and authorization changes are config revisions (who, readable diff); rolling one back restores it", async () => {
    type Rev = {
      id: number;
      actor: string;
      service: string;
      kind: string;
      summary: string;
      diff: string[];
      configVersion: number;
      rollbackOf: number | null;
    };
    const revs = await admin.query<Rev[]>("revisions.list", { service: "catalog" });
    const toPermissive = revs.find((r) => r.kind === "mtls" && r.diff.includes("~ mtls: STRICT → PERMISSIVE"));
    assert.ok(toPermissive, `an mtls revision STRICT → PERMISSIVE in ${JSON.stringify(revs.map((r) => [r.kind, r.diff]))}`);
    assert.equal(toPermissive.actor, "admin");
    assert.equal(toPermissive.summary, "mTLS STRICT → PERMISSIVE");
    assert.ok(toPermissive.configVersion > 0, "stamped with the config version it went out with");
    const allowWeb = revs.find((r) => r.kind === "authz" && r.diff.includes(`+ allow ${WEB_ID} GET /allowed`));
    assert.ok(allowWeb, "the rule that let web in is a revision with a readable diff");
    assert.equal(allowWeb.actor, "admin");

    // Rolling back the switch to PERMISSIVE makes catalog STRICT again, on both agents; mesh calls keep working.
    const rb = await admin.mutate<{ revision: Rev }>("revisions.rollback", { id: toPermissive.id });
    assert.equal(rb.revision.kind, "rollback");
    assert.equal(rb.revision.rollbackOf, toPermissive.id);
    assert.deepEqual(rb.revision.diff, ["~ mtls: PERMISSIVE → STRICT"]);
    await eventually(
      async () => (await appliedMode(catalogAgent, "catalog")) === "STRICT" && (await appliedMode(webAgent, "catalog")) === "STRICT",
      15_000,
      "STRICT restored",
    );
    assert.equal((await admin.query<{ mtls: string }>("security.service", { name: "catalog" })).mtls, "STRICT");
    // Plaintext is refused again: a new connection fails the handshake, a keep-alive one from before gets 403.
    const plain = await request(catalogAgent.inbound, "/plain-after-rollback", { timeoutMs: 5_000 }).then(
      (r) => `${r.status} ${r.headers["x-trellis-error"]}`,
      () => "refused",
    );
    assert.ok(plain === "refused" || plain === "403 mtls-required", `plaintext after the rollback: ${plain}`);
    assert.ok(!catalogApp.seen.some((r) => r.url === "/plain-after-rollback"), "it never reached the app");
    assert.equal((await request(webAgent.inbound, "/call/catalog/allowed/after-rollback")).status, 200);

    // Rolling back the rule that let web in would now empty catalog's allow-list (cart's rule was removed after it),
    // which would let every caller in: refused, naming the later revision. Undo the removal first, then the rule:
    // each rollback reverts only its own revision's rule, so cart stays and web is denied again.
    const removeCart = revs.find((r) => r.kind === "authz" && r.diff.includes("- allow spiffe://trellis.local/service/cart"));
    assert.ok(removeCart, "the removal of cart's rule is a revision");
    await assert.rejects(
      admin.mutate("revisions.rollback", { id: allowWeb.id }),
      (e: TrpcError) => e.status === 409 && e.message.includes(`after revision ${removeCart.id} it would also change authorization`),
    );
    await admin.mutate("revisions.rollback", { id: removeCart.id });
    const rbRule = await admin.mutate<{ revision: Rev }>("revisions.rollback", { id: allowWeb.id });
    assert.deepEqual(rbRule.revision.diff, [`- allow ${WEB_ID} GET /allowed`]);
    const rules = (await admin.query<{ rules: { principals: string[] }[] }>("security.service", { name: "catalog" })).rules;
    assert.deepEqual(
      rules.map((r) => r.principals),
      [["spiffe://trellis.local/service/cart"]],
    );
    await eventually(
      async () => (await request(webAgent.inbound, "/call/catalog/allowed/2")).status === 403,
      10_000,
      "web denied after the rollback",
    );
    // ...and rolling back that rollback lets it in again.
    await admin.mutate("revisions.rollback", { id: rbRule.revision.id });
    await eventually(async () => (await request(webAgent.inbound, "/call/catalog/allowed/3")).status === 200, 10_000, "web allowed again");
  });
});

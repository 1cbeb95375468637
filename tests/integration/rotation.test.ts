/**
 * Certificate rotation under load: a console issuing 6-second certificates (TRELLIS_CERT_TTL_SECONDS), catalog in
 * STRICT, steady load web → catalog over mTLS for ~15 s (several renewals of both agents at 2/3 of the lifetime), plus
 * a fresh mTLS handshake every 500 ms. Every request must succeed and new handshakes must see renewed certificates.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, adminSession, type ConsoleHandle, eventually, startConsole, stopAll } from "@trellis/testkit";
import { type CallerApp, type EchoApp, request, startCatalogAndWeb, startLoad } from "../support/apps.ts";
import { issueClientCert, openCa, tlsRequest } from "../support/pki.ts";

const TTL_SECONDS = 6;
const LOAD_MS = 15_000;

async function adminJson(agent: AgentHandle, p: string) {
  return JSON.parse((await request(agent.admin, p)).body.toString());
}

describe("certificate rotation under load", () => {
  let consoleProc: ConsoleHandle;
  let catalogApp: EchoApp;
  let webApp: CallerApp;
  let catalogAgent: AgentHandle;
  let webAgent: AgentHandle;

  before(async () => {
    consoleProc = await startConsole({ env: { TRELLIS_CERT_TTL_SECONDS: String(TTL_SECONDS) } });
    ({ catalogApp, catalogAgent, webApp, webAgent } = await startCatalogAndWeb(consoleProc));
    const admin = await adminSession(consoleProc.url);
    await admin.mutate("security.setMtls", { name: "catalog", mode: "STRICT" });
    await eventually(
      async () => {
        const cfg = await adminJson(catalogAgent, "/config");
        const web = await adminJson(webAgent, "/config");
        const mode = (c: { snapshot?: { services?: { name: string; mtls: string; endpoints: unknown[] }[] } }) =>
          c.snapshot?.services?.find((s) => s.name === "catalog");
        return mode(cfg)?.mtls === "STRICT" && mode(web)?.mtls === "STRICT" && (mode(web)?.endpoints.length ?? 0) > 0;
      },
      15_000,
      "catalog STRICT everywhere",
    );
  });

  after(async () => {
    await stopAll();
    await catalogApp?.close();
    await webApp?.close();
  });

  test(`${TTL_SECONDS} s certificates rotate several times with zero failed requests`, async () => {
    const before = { web: await adminJson(webAgent, "/identity"), catalog: await adminJson(catalogAgent, "/identity") };
    const caPem = fs.readFileSync(path.join(consoleProc.dataDir, "ca", "ca.crt"), "utf8");
    const client = await issueClientCert(await openCa(consoleProc.dataDir, 3600), "web");
    const deadline = Date.now() + LOAD_MS;
    const load = startLoad(webAgent);
    const failures: string[] = [];
    const serials = new Set<string>();
    const handshakes = async () => {
      while (Date.now() < deadline) {
        try {
          serials.add((await tlsRequest(catalogAgent.inbound, "/handshake", client, caPem)).serverSerial);
        } catch (e) {
          failures.push(`fresh handshake: ${String(e)}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    await handshakes();
    const { ok, failures: callFailures } = await load.stop();
    failures.push(...callFailures);
    const after = { web: await adminJson(webAgent, "/identity"), catalog: await adminJson(catalogAgent, "/identity") };
    console.log(
      JSON.stringify({
        ok,
        failures: failures.length,
        serials: serials.size,
        renewals: { web: after.web.renewals, catalog: after.catalog.renewals },
      }),
    );
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed requests`);
    assert.ok(ok > 100, `load ran (${ok} requests)`);
    assert.ok(after.catalog.renewals - before.catalog.renewals >= 2, `catalog renewed ${after.catalog.renewals - before.catalog.renewals} times`);
    assert.ok(after.web.renewals - before.web.renewals >= 2, `web renewed ${after.web.renewals - before.web.renewals} times`);
    assert.ok(serials.size >= 3, `fresh handshakes saw ${serials.size} server certificates`);
    assert.notEqual(after.catalog.serial, before.catalog.serial);
  });
});

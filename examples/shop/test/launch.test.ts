/**
 * The launcher's own mechanics — port plumbing, the ports table, crash restarts, clean shutdown — with a stand-in
 * agent (test/fixtures/fake-agent.mjs, same CLI and stdout contract) so they are tested whatever state the real agent
 * is in. The real agent and console are exercised by integration.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ProcessGroup, spawnNode } from "@trellis/testkit";
import { formatTable } from "../src/launch.ts";
import { SHOP_INSTANCES } from "../src/topology.ts";
import {
  allPids,
  buildShop,
  cleanup,
  eventually,
  fakeAgent,
  isAlive,
  type PortsFile,
  readPorts,
  request,
  shopDir,
  tempDir,
  track,
} from "./support.ts";

const isSimulatedProcessorTimeout = (res: { status: number; body: { upstream?: string; error?: string } }) =>
  res.status === 502 && res.body.upstream === "payments" && /processor timeout/.test(String(res.body.error));

describe("launch (with a stand-in agent)", () => {
  let stateRoot: string;
  let launcher: ProcessGroup;
  let ports: PortsFile;
  const inst = (id: string) => ports.instances.find((i) => i.id === id)!;

  before(async () => {
    buildShop();
    stateRoot = tempDir("launch");
    launcher = spawnNode("launch", [
      `${shopDir}/dist/launch.js`,
      "--agent",
      fakeAgent,
      "--state-root",
      stateRoot,
      "--no-load",
      "--ready-timeout",
      "5000",
    ]);
    await launcher.waitFor((l) => l.msg === "shop ready", 60_000, "shop ready");
    ports = readPorts(stateRoot);
    track(allPids(ports));
  });
  after(cleanup);

  test("every instance has an app, an agent and four distinct ports; the table shows them", () => {
    assert.deepEqual(
      ports.instances.map((i) => i.id),
      SHOP_INSTANCES.map((s) => s.id),
    );
    for (const i of ports.instances) {
      const all = [i.appPort, i.inbound, i.outbound, i.admin];
      assert.ok(
        all.every((p) => Number.isInteger(p) && p > 0),
        i.id,
      );
      assert.equal(new Set(all).size, 4);
      assert.ok(isAlive(i.pids.app) && isAlive(i.pids.agent));
    }
    const out = launcher.output.join("\n");
    assert.match(out, new RegExp(`curl -x http://127\\.0\\.0\\.1:${inst("web-v1-1").outbound} http://catalog/products`));
    assert.match(out, /web-v1-1\s+web\s+v1/);
  });

  test("apps learn their outbound port: a checkout crosses web, cart, catalog, inventory and payments", async () => {
    const checkout = () =>
      request(inst("web-v1-1").inbound, "POST", "/checkout", { buyNow: { productId: "p-100", qty: 1 } }, { "x-cart-id": "launch-test" });
    // The stand-in agent does not retry, and payments v2 fails 4 % of charges on purpose (the demo's flaky
    // processor): a checkout refused for that reason alone is tried again, any other failure fails the test.
    let res = await checkout();
    for (let attempt = 1; attempt < 5 && isSimulatedProcessorTimeout(res); attempt++) res = await checkout();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(res.body.paymentId, /^pay_v[12]_/);
    const proxied = await request(inst("web-v1-1").outbound, "GET", "http://catalog/products");
    assert.equal(proxied.status, 200);
    assert.equal(proxied.body.products.length, 12);
  });

  test("cart prices delivery with shipping over gRPC (h2c through both stand-in agents)", async () => {
    const res = await request(inst("web-v1-1").inbound, "POST", "/cart/items", { productId: "p-101", qty: 2 }, { "x-cart-id": "launch-grpc" });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.shipping.quotedBy, "shipping", JSON.stringify(res.body.shipping));
    assert.equal(res.body.totalCents, res.body.subtotalCents + res.body.shippingCents);
  });

  test("a crashed app is restarted on its port; a crashed agent on its ports, and the app is re-pointed", async () => {
    const cat = inst("catalog-v1-1");
    process.kill(cat.pids.app, "SIGKILL");
    await launcher.waitFor((l) => l.msg === "app restarted" && l.instance === "catalog-v1-1", 15_000, "catalog app restarted");
    const cart = inst("cart-v1-1");
    process.kill(cart.pids.agent, "SIGKILL");
    await launcher.waitFor((l) => l.msg === "agent restarted" && l.instance === "cart-v1-1", 15_000, "cart agent restarted");
    const after = readPorts(stateRoot);
    track(allPids(after));
    const cat2 = after.instances.find((i) => i.id === "catalog-v1-1")!;
    const cart2 = after.instances.find((i) => i.id === "cart-v1-1")!;
    assert.notEqual(cat2.pids.app, cat.pids.app);
    assert.equal(cat2.appPort, cat.appPort);
    assert.notEqual(cart2.pids.agent, cart.pids.agent);
    assert.deepEqual([cart2.inbound, cart2.outbound, cart2.admin], [cart.inbound, cart.outbound, cart.admin]);
    // cart's app calls out through its (new) agent again.
    await eventually(
      async () =>
        (await request(inst("web-v1-1").inbound, "POST", "/cart/items", { productId: "p-402" }, { "x-cart-id": "after-crash" })).status === 201,
      10_000,
      "add to cart after the restarts",
    );
    ports = after;
  });

  test("SIGTERM stops every child and exits 0", async () => {
    const pids = allPids(readPorts(stateRoot));
    // Past 4 s the process group is SIGKILLed and the exit code is no longer 0.
    const exit = await launcher.stop("SIGTERM", 4_000);
    assert.equal(exit.code, 0);
    assert.deepEqual(pids.filter(isAlive), [], "no orphans");
  });

  test("formatTable aligns columns", () => {
    const t = formatTable([{ id: "a", service: "web", version: "v1", appPort: 1, inbound: 2, outbound: 3, admin: 4, ready: true }]).split("\n");
    assert.equal(t.length, 3);
    assert.match(t[2], /^a\s+web\s+v1\s+1\s+2\s+3\s+4\s+yes$/);
  });
});

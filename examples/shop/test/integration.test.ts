/**
 * The demo shop end to end with the real pieces: the console (apps/web), the launcher, ten app instances each with
 * its real agent (apps/agent/dist/cli.js), and the load generator against web's agent inbound port (ingress).
 * Fails — does not skip — when the agent is not built.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { adminSession, liveEdges, type ProcessGroup, spawnNode, startConsole } from "@trellis/testkit";
import { WebSocket } from "ws";
import { SHIPPING_RATES } from "../src/services/shipping.ts";
import { SHOP_INSTANCES } from "../src/topology.ts";
import {
  agentCli,
  allPids,
  buildShop,
  cleanup,
  eventually,
  isAlive,
  type PortsFile,
  readPorts,
  request,
  shopDir,
  tempDir,
  track,
} from "./support.ts";

const TOKEN = "shop-integration-token-0123456789";

describe("demo shop with the real console and agents", () => {
  let consoleUrl: string;
  let stateRoot: string;
  let launcher: ProcessGroup;
  let ports: PortsFile;
  const web = () => ports.instances.find((i) => i.service === "web")!;

  before(async () => {
    assert.ok(fs.existsSync(agentCli), `the agent is not built (${agentCli}); run npm run build -w @trellis/agent`);
    buildShop();
    consoleUrl = (await startConsole({ token: TOKEN, timeoutMs: 90_000 })).url;
    // The launcher passes the token to its agents by file, as `npm start` does.
    stateRoot = tempDir("shop");
    const tokenFile = path.join(stateRoot, "token");
    fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    launcher = spawnNode(
      "launch",
      [
        path.join(shopDir, "dist/launch.js"),
        "--console",
        `${consoleUrl.replace(/^http/, "ws")}/ws/agents`,
        "--token-file",
        tokenFile,
        "--state-root",
        stateRoot,
        "--no-load",
        "--ready-timeout",
        "30000",
      ],
      { env: { TRELLIS_JOIN_TOKEN: "" } },
    );
    await launcher.waitFor((l) => l.msg === "shop ready", 90_000, "shop ready");
    ports = readPorts(stateRoot);
    track(allPids(ports));
  });
  after(cleanup);

  test("all ten instances run with their agents, and every agent applied a snapshot from the console", () => {
    assert.deepEqual(ports.instances.map((i) => i.id).sort(), SHOP_INSTANCES.map((s) => s.id).sort());
    const notReady = ports.instances.filter((i) => !i.ready).map((i) => i.id);
    assert.deepEqual(notReady, [], "agents without a snapshot");
  });

  test("a checkout through web's agent succeeds end to end", async () => {
    const res = await eventually(
      async () => {
        const r = await request(web().inbound, "POST", "/checkout", { buyNow: { productId: "p-100", qty: 1 } }, { "x-cart-id": `it-${Date.now()}` });
        return r.status === 201 ? r : undefined;
      },
      20_000,
      "checkout via web's agent → 201",
    );
    assert.match(res.body.paymentId, /^pay_v[12]_/);
    assert.ok(res.body.totalCents > 0);
  });

  test("cart prices delivery with shipping over gRPC through cart's and shipping's agents; the graph shows cart → shipping with gRPC statuses", async () => {
    const cartId = `grpc-${Date.now()}`;
    let last: unknown;
    const added = await eventually(
      async () => {
        const r = await request(web().inbound, "POST", "/cart/items", { productId: "p-400", qty: 1 }, { "x-cart-id": cartId });
        last = r.body;
        return r.status === 201 && r.body.shipping?.quotedBy === "shipping" ? r : undefined;
      },
      20_000,
      "a cart priced by shipping (gRPC) via web's and cart's agents",
    ).catch((err: Error) => assert.fail(`${err.message}; last answer: ${JSON.stringify(last)}`));
    assert.equal(added.body.shippingCents, SHIPPING_RATES.baseCents, "one paid item: shipping's base rate, not cart's flat rate");
    assert.equal(added.body.totalCents, added.body.subtotalCents + added.body.shippingCents);
    // cart's agent carried the call as gRPC (an edge metric per gRPC status), over mTLS to shipping's agent.
    const cart = ports.instances.find((i) => i.service === "cart")!;
    const metrics = await (await fetch(`http://127.0.0.1:${cart.admin}/metrics`)).text();
    assert.match(metrics, /grpc_responses_total\{[^}]*source_service="cart"[^}]*destination_service="shipping"[^}]*grpc_status="0"\} [1-9]/);
    await eventually(
      async () =>
        (await liveEdges(consoleUrl)).some(
          (e) => e.source === "cart" && e.destination === "shipping" && (e.grpcStatus?.["0"] ?? 0) > 0 && e.mtlsShare === 1,
        ),
      15_000,
      "cart → shipping on the graph with gRPC OK calls, over mTLS",
    );
  });

  test("the live order status stream (WebSocket) runs through web's and cart's agents, and the graph shows it open", async () => {
    const checkout = await eventually(
      async () => {
        const r = await request(
          web().inbound,
          "POST",
          "/checkout",
          { buyNow: { productId: "p-101", qty: 1 } },
          { "x-cart-id": `live-${Date.now()}` },
        );
        return r.status === 201 ? r : undefined;
      },
      20_000,
      "checkout → 201",
    );
    const orderId = checkout.body.orderId as string;
    // From outside the mesh into web's agent (ingress), web's app relays cart's stream through web's outbound agent.
    const ws = new WebSocket(`ws://127.0.0.1:${web().inbound}/orders/${orderId}/live`, { headers: { host: "web" } });
    const statuses: string[] = [];
    ws.on("message", (data) => statuses.push((JSON.parse(String(data)) as { orderId: string; status: string }).status));
    const closed = new Promise<number>((resolve, reject) => {
      ws.on("close", (code) => resolve(code));
      ws.on("error", reject);
    });
    // While it is open, the console's graph shows the stream on web → cart as an open connection.
    await eventually(
      async () => (await liveEdges(consoleUrl)).some((e) => e.source === "web" && e.destination === "cart" && (e.connections ?? 0) > 0),
      10_000,
      "web → cart with an open stream on the graph",
    );
    const code = await eventually(async () => closed, 15_000, "stream closed once delivered");
    assert.equal(code, 1000, "cart's normal close, relayed by web");
    assert.equal(statuses.at(-1), "delivered");
    assert.deepEqual(statuses, ["paid", "packed", "shipped", "delivered"].slice(-statuses.length), "every status after the first, in order");
    // web's agent carried both legs: the upgrade from outside (ingress → web) and web's own call to cart.
    const metrics = await (await fetch(`http://127.0.0.1:${web().admin}/metrics`)).text();
    assert.match(
      metrics,
      /requests_total\{source_service="web",source_version="v1",destination_service="cart",destination_version="v1",response_code="101"\} [1-9]/,
    );
    assert.match(metrics, /requests_total\{source_service="ingress",[^}]*destination_service="web"[^}]*response_code="101"\} [1-9]/);
  });

  test("an app-style proxy call through web's outbound listener reaches catalog", async () => {
    const res = await request(web().outbound, "GET", "http://catalog/products");
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    assert.equal(res.body.products.length, 12);
    assert.equal(res.body.stockKnown, true, "catalog reached inventory through its own agent");
  });

  test("the load generator's requests succeed (≥ 95%) and the edges show up in the console's graph", async () => {
    const lg = spawnNode("loadgen", [
      path.join(shopDir, "dist/loadgen.js"),
      "--port",
      String(web().inbound),
      "--rps",
      "50",
      "--requests",
      "300",
      "--report-every",
      "2",
    ]);
    const done = await lg.waitFor((l) => l.msg === "loadgen done", 60_000, "loadgen done");
    const rate = (done.ok as number) / (done.sent as number);
    assert.equal(done.sent, 300);
    assert.ok(rate >= 0.95, `success ${(rate * 100).toFixed(1)}%: ${JSON.stringify(done.failures)}`);
    assert.ok(((done.kinds as Record<string, { n: number }>).checkout?.n ?? 0) > 0, "checkouts were part of the mix");
    const streams = done.streams as { opened: number; delivered: number; events: number };
    assert.ok(streams.opened > 0 && streams.delivered > 0, `shoppers followed their orders live: ${JSON.stringify(streams)}`);
    const want = [
      ["ingress", "web"],
      ["web", "catalog"],
      ["web", "cart"],
      ["web", "payments"],
      ["catalog", "inventory"],
      ["cart", "inventory"],
      ["cart", "shipping"],
    ];
    await eventually(
      async () => {
        const edges = await liveEdges(consoleUrl);
        return want.every(([s, d]) => edges.some((e) => e.source === s && e.destination === d && e.rps > 0));
      },
      15_000,
      `graph.live edges ${want.map((w) => w.join("→")).join(", ")}`,
    );
  });

  test("mTLS by default: with no mTLS setting at all, every mesh edge of the graph ran over mTLS", async () => {
    // A fresh console: every service gets the mesh default (PERMISSIVE) and callers use mTLS whenever the destination
    // accepts it, so every edge between meshed services carries the lock (ingress, from outside the mesh, does not).
    const lg = spawnNode("loadgen", [path.join(shopDir, "dist/loadgen.js"), "--port", String(web().inbound), "--rps", "40", "--requests", "200"]);
    await lg.waitFor((l) => l.msg === "loadgen done", 60_000, "loadgen done");
    let last: string[] = [];
    await eventually(
      async () => {
        const mesh = (await liveEdges(consoleUrl)).filter((e) => e.source !== "ingress" && e.requests > 0);
        last = mesh.map((e) => `${e.source}→${e.destination} ${Math.round(e.mtlsShare * 100)}%`);
        return mesh.length >= 5 && mesh.every((e) => e.mtlsShare === 1);
      },
      20_000,
      "every mesh edge all mTLS",
    ).catch((err: Error) => assert.fail(`${err.message}; last seen: ${last.join(", ")}`));
  });

  test("traffic mirroring set through the console API (traffic.setMirror): web's agent applies it, the graph counts the copies to payments v2", async () => {
    const session = await adminSession(consoleUrl);
    const set = await session.mutate<{ revision: { kind: string } | null; policy: { mirror?: unknown } }>("traffic.setMirror", {
      service: "payments",
      mirror: { version: "v2", percent: 50 },
    });
    assert.equal(set.revision?.kind, "mirror");
    assert.deepEqual(set.policy.mirror, { version: "v2", percent: 50 });
    // Checkouts until web's agent has applied it and the copies show on the graph (web → payments v2, mirrored). That
    // callers get the answers of the split, never the copies', is shown by apps/agent/test/mirror-live.test.ts.
    await eventually(
      async () => {
        const r = await request(web().inbound, "POST", "/checkout", { buyNow: { productId: "p-102", qty: 1 } }, { "x-cart-id": `m-${Date.now()}` });
        if (r.status !== 201) return false; // payments v2 declines ~4% of the 10% split it serves: try again
        return (await liveEdges(consoleUrl)).some(
          (e) => e.source === "web" && e.destination === "payments" && e.destinationVersion === "v2" && (e.mirrored ?? 0) > 0,
        );
      },
      30_000,
      "mirrored copies on web → payments v2",
    );
    await session.mutate("traffic.setMirror", { service: "payments", mirror: null });
  });

  test("SIGTERM stops the shop: exit 0, no process left", async () => {
    const pids = allPids(readPorts(stateRoot));
    const exit = await launcher.stop("SIGTERM", 10_000);
    assert.equal(exit.code, 0);
    assert.deepEqual(pids.filter(isAlive), []);
  });
});

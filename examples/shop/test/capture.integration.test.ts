/**
 * The shop in capture mode (issue 12, "Done when": `npm start -- --capture`). Where the machine allows namespaces
 * (root here), every instance runs in a network namespace of its own and the apps call each other by name with no
 * proxy setting; the load generator succeeds, the live graph has the shop's edges, and SIGTERM leaves no namespace.
 * Where it does not (checked as an unprivileged user), it says why and stops before starting anything.
 * Root is required for the first part: without it, it fails at once and says so (never skips).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { ConsoleSession, spawnNode, trustConsoleCa } from "@trellis/testkit";
import { namespaceSupport } from "@trellis/testkit/netns";
import { SHOP_INSTANCES } from "../src/topology.ts";
import { cleanup, eventually, repoRoot, tempDir } from "./support.ts";

const startArgs = ["--import", "tsx", path.join(repoRoot, "scripts/start.mts"), "--capture", "--no-build"];
const ADMIN_PASSWORD = "shop-capture-admin-password";

describe("npm start -- --capture", { concurrency: false }, () => {
  after(cleanup);

  test("without root it says why and how, exits 2 and starts nothing", () => {
    const dataDir = tempDir("capture-denied");
    chmodSync(dataDir, 0o777);
    const asNobody = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const argv = [...asNobody, process.execPath, ...startArgs];
    const r = spawnSync(argv[0], argv.slice(1), {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, TRELLIS_DATA_DIR: dataDir, PORT: "0" },
    });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--capture: capture mode needs root .*sudo.*Without --capture the shop runs in explicit mode/);
    assert.doesNotMatch(r.stdout, /console listening/, "nothing was started");
  });

  test("with namespaces: each instance in its own pod, apps call by name with no proxy, traffic flows, stop removes the pods", async () => {
    const why = namespaceSupport();
    assert.equal(why, null, `the capture shop needs what this machine lacks: ${why}`);
    const dataDir = tempDir("capture-start");
    chmodSync(dataDir, 0o755); // the agents run as UID 1337 and need to reach their state dirs
    const p = spawnNode("start --capture", startArgs, {
      cwd: repoRoot,
      env: { PORT: "0", TRELLIS_DATA_DIR: dataDir, SHOP_RPS: "30", TRELLIS_JOIN_TOKEN: "", TRELLIS_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    const ready = await p.waitFor((l) => l.msg === "shop ready", 120_000, "shop ready");
    const id = /ip netns exec (tr\d+)-web-v1-1/.exec(p.output.join("\n"))?.[1];
    assert.ok(id, "the launcher printed how to enter web's pod");
    const prefix = `${id}-`;
    assert.ok(ready, "shop ready");
    const namespaces = () => execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    assert.equal(
      namespaces()
        .split("\n")
        .filter((l) => l.startsWith(prefix) && !l.startsWith(`${prefix}hub`)).length,
      SHOP_INSTANCES.length,
      "one pod per instance",
    );
    const summary = await p.waitFor((l) => l.msg === "loadgen summary", 30_000, "a loadgen summary line");
    assert.ok((summary.success_pct as number) >= 95, JSON.stringify(summary));

    const url = /console listening at (https:\/\/\S+)/.exec(p.output.join("\n"))?.[1];
    assert.ok(url, "console URL printed, over TLS (the agents reach it across the pods' bridge)");
    trustConsoleCa(url, path.join(dataDir, "ca", "ca.crt"));
    const admin = await ConsoleSession.signIn(url, "admin", ADMIN_PASSWORD);
    await eventually(
      async () => {
        const edges = await admin.liveEdges();
        const has = (s: string, d: string) => edges.some((e) => e.source === s && e.destination === d && e.rps > 0);
        // cart → shipping is gRPC: grpc-js dials shipping:8080 by name, captured as HTTP/2 like any call.
        return has("web", "catalog") && has("catalog", "inventory") && has("cart", "inventory") && has("cart", "shipping");
      },
      20_000,
      "the shop's edges on the live graph (cart → shipping over gRPC too)",
    );

    const exit = await p.stop("SIGTERM", 5_000);
    assert.equal(exit.code, 0, p.output.slice(-20).join("\n"));
    assert.ok(!namespaces().includes(prefix), "the pods are gone");
  });
});

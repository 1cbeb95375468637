/**
 * HTTP/2 from apps through the mesh (issue #10, scope 1), with clients this project did not write: `curl
 * --http2-prior-knowledge` and `h2load` dial web's agent's outbound port (h2c, prior knowledge) naming the service as
 * `:authority`; the agents talk HTTP/2 over mTLS (ALPN h2, STRICT at the destination); catalog's app is a plain
 * HTTP/1.1 server and still answers (the inbound agent speaks HTTP/1.1 to it, gRPC aside).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, adminSession, type ConsoleHandle, type ConsoleSession, startConsole, stopAll } from "@trellis/testkit";
import { type EchoApp, startEchoApp, startStrictPair } from "../support/apps.ts";

/** Runs a program to completion (bounded), resolving with its exit code and output. */
function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => {
      stdout += d;
    });
    p.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("HTTP/2 from apps: curl and h2load through two agents (mTLS STRICT)", { concurrency: false }, () => {
  let c: ConsoleHandle;
  let admin: ConsoleSession;
  let catalogApp: EchoApp;
  let webApp: EchoApp;
  let webAgent: AgentHandle;

  before(async () => {
    c = await startConsole();
    admin = await adminSession(c.url);
    catalogApp = await startEchoApp("catalog");
    webApp = await startEchoApp("web");
    ({ callerAgent: webAgent } = await startStrictPair(c, admin, ["catalog", catalogApp.port], ["web", webApp.port]));
  });

  after(async () => {
    await stopAll();
    await catalogApp?.close();
    await webApp?.close();
  });

  test("curl --http2-prior-knowledge: GET and POST answered over HTTP/2, the app saw the request and the caller's identity", async () => {
    const base = ["--http2-prior-knowledge", "-sS", "-D", "-", "--max-time", "10", "--connect-to", `catalog:80:127.0.0.1:${webAgent.outbound}`];
    const get = await run("curl", [...base, "-H", "x-custom: Mixed Value, kept", "http://catalog/items?page=2"]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^HTTP\/2 200 ?\r?$/m);
    assert.match(get.stdout, /^x-app: catalog\r?$/m);
    const seenGet = catalogApp.seen.at(-1)!;
    assert.equal(seenGet.method, "GET");
    assert.equal(seenGet.url, "/items?page=2");
    assert.equal(seenGet.headers.host, "catalog");
    assert.equal(seenGet.headers["x-custom"], "Mixed Value, kept");
    assert.match(String(seenGet.headers["x-trellis-peer-identity"]), /\/service\/web$/);

    const body = "x".repeat(100_000);
    const post = await run("curl", [...base, "--data-binary", body, "-H", "content-type: text/plain", "http://catalog/orders"]);
    assert.equal(post.code, 0, post.stderr);
    assert.match(post.stdout, /^HTTP\/2 200 ?\r?$/m);
    assert.match(post.stdout, /"bodyLength":100000/);
    const seenPost = catalogApp.seen.at(-1)!;
    assert.equal(seenPost.method, "POST");
    assert.equal(seenPost.body.toString(), body);

    // A proxy-made error over HTTP/2 is an ordinary HTTP error for a non-gRPC caller.
    const nosuch = await run("curl", [
      "--http2-prior-knowledge",
      "-sS",
      "-D",
      "-",
      "--max-time",
      "10",
      "--connect-to",
      `nosuch:80:127.0.0.1:${webAgent.outbound}`,
      "http://nosuch/",
    ]);
    assert.match(nosuch.stdout, /^HTTP\/2 503 ?\r?$/m);
    assert.match(nosuch.stdout, /^x-trellis-error: unknown-service\r?$/m);
  });

  test("h2load: 2,000 requests over 4 connections × 10 concurrent streams, all 2xx", async () => {
    const before = catalogApp.seen.length;
    const r = await run(
      "h2load",
      ["-n", "2000", "-c", "4", "-m", "10", "-H", ":authority: catalog", `http://127.0.0.1:${webAgent.outbound}/load`],
      60_000,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/);
    assert.match(r.stdout, /status codes: 2000 2xx/);
    assert.equal(catalogApp.seen.length - before, 2000);
  });
});

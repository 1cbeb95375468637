/**
 * gRPC deadlines through a real agent (persisted snapshot): the caller's `grpc-timeout` counts from the call's
 * arrival, and the next hop is sent what is left of it — not the value the caller sent. A fault delay (100 %, fixed)
 * spends a known part of the deadline inside the agent. The upstream is a node:http2 server standing in for the
 * destination's agent (h2c between agents when mTLS is off); it records the grpc-timeout it is given.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { parseGrpcTimeout } from "../src/proxy/grpc.ts";
import { cleanup, snapshot, startAgent } from "./helpers.ts";

type ServiceInput = MeshSnapshotInput["services"][number];

/** Answers every call OK (trailers-only) and records its grpc-timeout, in ms. */
async function startRecordingUpstream() {
  const timeouts: (number | null)[] = [];
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    timeouts.push(parseGrpcTimeout((headers["grpc-timeout"] as string | undefined) ?? null));
    stream.resume();
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, timeouts, close: () => new Promise((r) => server.close(r)) };
}

/** One unary gRPC call (no message body needed here) to the agent's outbound port, `:authority: svc`. */
function call(port: number, grpcTimeout: string) {
  return new Promise<{ status: string; error: string; elapsedMs: number }>((resolve, reject) => {
    const t0 = performance.now();
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const req = session.request(
      {
        ":method": "POST",
        ":path": "/svc.Svc/Call",
        ":authority": "svc",
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": grpcTimeout,
      },
      { endStream: true },
    );
    let status = "";
    let error = "";
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      if (h["x-trellis-error"] !== undefined) error = String(h["x-trellis-error"]);
    };
    req.on("response", read);
    req.on("trailers", read);
    req.resume();
    req.on("end", () => {
      session.close();
      resolve({ status, error, elapsedMs: performance.now() - t0 });
    });
    req.on("error", reject);
    setTimeout(() => reject(new Error("no answer in 5 s")), 5_000).unref();
  });
}

describe("gRPC deadlines in the data path", () => {
  const upstreams: Array<{ close(): Promise<unknown> }> = [];
  after(async () => {
    await cleanup();
    for (const u of upstreams) await u.close();
  });

  async function agentWithDelay(delayMs: number, timeoutMs?: number) {
    const up = await startRecordingUpstream();
    upstreams.push(up);
    const svc: ServiceInput = {
      name: "svc",
      versions: ["v1"],
      endpoints: [{ address: `127.0.0.1:${up.port}`, version: "v1", instanceId: "svc-1" }],
      faultInjection: { delay: { percent: 100, ms: delayMs } },
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    };
    const agent = await startAgent({ service: "shop", appPort: 1, snapshot: snapshot("shop", [svc]) });
    return { agent, up };
  }

  test("the next hop gets the deadline minus the time spent in the agent (a 300 ms fault delay)", async () => {
    const { agent, up } = await agentWithDelay(300);
    const r = await call(agent.outbound, "2000m");
    assert.equal(r.status, "0");
    assert.equal(up.timeouts.length, 1);
    const sent = up.timeouts[0];
    assert.ok(sent !== null && sent <= 1_700 && sent > 0, `grpc-timeout sent upstream: ${sent} ms (caller: 2000 ms, 300 ms spent)`);
  });

  test("a deadline shorter than the delay ends the call at the deadline, counted from arrival; upstream never called", async () => {
    // Bounds far apart (deadline 200 ms, delay 4 s, answer within 2.5 s): a loaded machine does not blur them.
    const { agent, up } = await agentWithDelay(4_000, 10_000);
    const r = await call(agent.outbound, "200m");
    assert.equal(r.status, "4", "DEADLINE_EXCEEDED");
    assert.equal(r.error, "timeout");
    assert.ok(r.elapsedMs < 2_500, `answered after ${Math.round(r.elapsedMs)} ms (deadline 200 ms, delay 4,000 ms)`);
    assert.equal(up.timeouts.length, 0);
  });
});

/**
 * gRPC through the mesh (issue #10, scopes 1–2): a real @grpc/grpc-js client dials web's agent's outbound port with
 * the service name as authority (`:authority: echo`, HTTP/2 with prior knowledge), the agents talk HTTP/2 over mTLS
 * (ALPN h2, STRICT at the destination), and echo's agent hands the call to a real @grpc/grpc-js server over h2c.
 * Unary and the three streaming kinds with 1,000 messages, every status code with its message, deadlines honoured and
 * propagated, proxy-made errors as gRPC statuses carrying the reason, and gRPC outcomes in telemetry.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import {
  type AgentHandle,
  adminSession,
  type ConsoleHandle,
  type ConsoleSession,
  eventually,
  startAgent,
  startConsole,
  stopAll,
} from "@trellis/testkit";
import { adminJson, type EchoApp, request, startEchoApp, startStrictPair } from "../support/apps.ts";
import { type EchoClient, echoClient, type GrpcApp, grpc, type Msg, startGrpcApp, unary } from "../support/grpc-app.ts";

/** A gRPC request written by hand (node:http2), to read exactly what the proxy answers. */
function rawGrpc(port: number, authority: string, text: string | null, headers: http2.OutgoingHttpHeaders = {}) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders | null; endedWithHead: boolean }>(
    (resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on("error", reject);
      const req = session.request(
        {
          ":method": "POST",
          ":path": "/trellis.test.Echo/Unary",
          ":authority": authority,
          "content-type": "application/grpc",
          te: "trailers",
          ...headers,
        },
        { endStream: text === null },
      );
      let head: http2.IncomingHttpHeaders = {};
      let endedWithHead = false;
      let trailers: http2.IncomingHttpHeaders | null = null;
      req.on("response", (h, flags) => {
        head = h;
        endedWithHead = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      });
      req.on("trailers", (t) => {
        trailers = t;
      });
      req.on("data", () => {});
      req.on("end", () => {
        session.close();
        resolve({ headers: head, trailers, endedWithHead });
      });
      req.on("error", reject);
      if (text === null) return; // no message at all: the HEADERS frame ended the request
      // One Msg { text }: protobuf field 1 (length-delimited), in a gRPC frame (not compressed, 4-byte length).
      const msg = Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(text)]), Buffer.from(text)]);
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(msg.length, 1);
      req.end(Buffer.concat([frame, msg]));
    },
  );
}

/**
 * A gRPC-speaking app written on node:http2 (h2c): `/trellis.test.Echo/Unary` answers trailers-only UNAVAILABLE the
 * first time it sees an `x-key`, then OK (an empty message and `grpc-status: 0` in the trailers). Counts attempts.
 */
async function startFlakyGrpcApp() {
  const attempts = new Map<string, number>();
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    const key = String(headers["x-key"]);
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    stream.resume();
    if (n === 1) {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "14", "grpc-message": "first attempt fails" },
        { endStream: true },
      );
      return;
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(Buffer.alloc(5));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as import("node:net").AddressInfo).port,
    attempts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("gRPC through two agents (HTTP/2 over mTLS STRICT)", { concurrency: false }, () => {
  let c: ConsoleHandle;
  let admin: ConsoleSession;
  let echoApp: GrpcApp;
  let webApp: EchoApp;
  let webAgent: AgentHandle;
  let client: EchoClient;
  let flaky: Awaited<ReturnType<typeof startFlakyGrpcApp>>;

  before(async () => {
    flaky = await startFlakyGrpcApp();
    c = await startConsole();
    admin = await adminSession(c.url);
    echoApp = await startGrpcApp();
    webApp = await startEchoApp("web");
    ({ callerAgent: webAgent } = await startStrictPair(c, admin, ["echo", echoApp.port], ["web", webApp.port]));
    const flakyAgent = await startAgent({ service: "flaky", appPort: flaky.port, console: c.wsAgents, token: c.token });
    await eventually(async () => (await adminJson(flakyAgent, "/identity"))?.spiffeId, 15_000, "flaky's certificate");
    client = echoClient(webAgent.outbound, "echo");
  });

  after(async () => {
    client?.close();
    await stopAll();
    await echoApp?.close();
    await webApp?.close();
    await flaky?.close();
  });

  test("unary: the answer comes back; the server saw the caller's identity from its mTLS certificate", async () => {
    const blob = Buffer.from([0, 1, 2, 255, 254]);
    const { res, err } = await unary(client, { text: "hello", n: 7, blob });
    assert.equal(err, null);
    assert.equal(res?.text, "echo: hello");
    assert.equal(res?.n, 7);
    assert.deepEqual([...(res?.blob ?? [])], [...blob]);
    const call = echoApp.calls.at(-1)!;
    assert.equal(call.method, "Unary");
    assert.match(call.metadata["x-trellis-peer-identity"] ?? "", /^spiffe:\/\/[^/]+\/service\/web$/);
  });

  test("server streaming: 1,000 messages, in order", async () => {
    const got: Msg[] = [];
    const call = client.ServerStream({ text: "item", n: 1000 });
    await new Promise<void>((resolve, reject) => {
      call.on("data", (m: Msg) => got.push(m));
      call.on("end", resolve);
      call.on("error", reject);
    });
    assert.equal(got.length, 1000);
    for (let i = 0; i < 1000; i++) assert.deepEqual([got[i].text, got[i].n], [`item ${i}`, i]);
  });

  test("client streaming: 1,000 messages, one answer that counts them", async () => {
    const res = await new Promise<Msg>((resolve, reject) => {
      const call = client.ClientStream(new grpc.Metadata(), {}, (err, r) => (err ? reject(err) : resolve(r)));
      for (let i = 0; i < 1000; i++) call.write({ text: `m${i}`, n: i });
      call.end();
    });
    assert.equal(res.text, "got 1000");
    assert.equal(res.n, (999 * 1000) / 2);
  });

  test("bidirectional streaming: 1,000 messages each way, each answered before the next is sent", async () => {
    const call = client.Bidi();
    const got: Msg[] = [];
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      const next = () => {
        if (sent === 1000) return void call.end();
        call.write({ text: `ping ${sent}`, n: sent });
        sent++;
      };
      call.on("data", (m: Msg) => {
        got.push(m);
        next();
      });
      call.on("end", resolve);
      call.on("error", reject);
      next();
    });
    assert.equal(got.length, 1000);
    for (let i = 0; i < 1000; i++) assert.deepEqual([got[i].text, got[i].n], [`echo ping ${i}`, i]);
  });

  test("every status code is relayed with its message (trailers across both agents)", async () => {
    for (let code = 1; code <= 16; code++) {
      const message = `status ${code}: ünïcode ✓ and 100% kept`;
      const { err } = await unary(client, { text: `status:${code}:${message}` });
      assert.equal(err?.code, code, `code ${code}: ${err?.message}`);
      assert.equal(err?.details, message);
      assert.equal(err?.metadata.get("x-trellis-error").length, 0, "not a proxy-made error");
    }
  });

  test("telemetry classifies by grpc-status: UNAVAILABLE behind HTTP 200 is an error, on the graph with its code and in /metrics", async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await unary(client, { text: "status:14:down for maintenance" })).err?.code, grpc.status.UNAVAILABLE);
      assert.equal((await unary(client, { text: `fine ${i}` })).err, null);
    }
    const edge = await eventually(
      async () =>
        (await admin.liveEdges()).find(
          (e) => e.source === "web" && e.destination === "echo" && (e.grpcStatus?.["14"] ?? 0) >= 5 && (e.grpcStatus?.["0"] ?? 0) >= 5,
        ),
      15_000,
      "web → echo on the live graph with its gRPC status codes",
    );
    assert.ok(edge.errorRate > 0, `error rate ${edge.errorRate}`);
    assert.match(edge.label ?? "", /gRPC .*UNAVAILABLE \d+/);
    const metrics = (await request(webAgent.admin, "/metrics")).body.toString();
    assert.match(metrics, /grpc_responses_total\{[^}]*destination_service="echo"[^}]*grpc_status="14"\} (\d+)/);
    assert.match(metrics, /requests_total\{[^}]*destination_service="echo"[^}]*response_code="200"\}/, "the HTTP status stays 200");
  });

  test("a deadline: the client's grpc-timeout reaches the server, and the call ends DEADLINE_EXCEEDED", async () => {
    const t0 = Date.now();
    const { err } = await unary(client, { text: "sleep:5000" }, { deadline: Date.now() + 400 });
    assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 3000, `ended after ${Date.now() - t0} ms`);
    const call = echoApp.calls.findLast((x) => x.method === "Unary")!;
    assert.ok(call.deadlineMs !== null && call.deadlineMs > 0 && call.deadlineMs <= 400, `server deadline ${call.deadlineMs} ms`);
    // The cancellation travelled to the server: it stopped working on the call.
    await eventually(async () => echoApp.cancelled.includes("sleep:5000"), 5_000, "server saw the call cancelled");
  });

  test("the agent honours grpc-timeout itself: a trailers-only DEADLINE_EXCEEDED with the reason", async () => {
    const t0 = Date.now();
    const r = await rawGrpc(webAgent.outbound, "echo", "sleep:5000", { "grpc-timeout": "300m" });
    assert.ok(Date.now() - t0 < 3000, `answered after ${Date.now() - t0} ms`);
    // The client here sets no timer of its own: the answer is the proxy's.
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.endedWithHead, true, "trailers-only: one HEADERS frame that ends the stream");
    assert.equal(r.headers["grpc-status"], "4");
    assert.equal(r.headers["x-trellis-error"], "timeout");
    assert.match(String(r.headers["grpc-message"]), /^timeout: /);
    assert.equal(r.headers["content-type"], "application/grpc");
  });

  test("proxy-made errors reach the gRPC client as gRPC statuses whose details carry the reason", async () => {
    const nosuch = echoClient(webAgent.outbound, "nosuch");
    try {
      const { err } = await unary(nosuch, { text: "x" });
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.match(err?.details ?? "", /^unknown-service: service "nosuch" is not in the applied snapshot/);
      assert.deepEqual(err?.metadata.get("x-trellis-error"), ["unknown-service"]);
    } finally {
      nosuch.close();
    }
  });

  test("retry on gRPC UNAVAILABLE (retryOn: unavailable): the trailers-only failure is retried within the budget, the caller gets OK", async () => {
    await admin.mutate("traffic.update", { service: "flaky", patch: { retries: { attempts: 2, retryOn: ["unavailable"], nonIdempotent: true } } });
    await eventually(
      async () =>
        (await adminJson(webAgent, "/config")).snapshot?.services?.some(
          (s: { name: string; retries?: { retryOn: string[] }; endpoints: unknown[] }) =>
            s.name === "flaky" && s.retries?.retryOn.includes("unavailable") && s.endpoints.length > 0,
        ),
      15_000,
      "retry policy applied",
    );
    // A bodiless call first: the retry decision is the gRPC one.
    const r = await rawGrpc(webAgent.outbound, "flaky", null, { "x-key": "k1" });
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.trailers?.["grpc-status"], "0", `got ${JSON.stringify(r.headers)} ${JSON.stringify(r.trailers)}`);
    assert.equal(flaky.attempts.get("k1"), 2, "the first attempt failed, the retry succeeded");
    // A @grpc/grpc-js call: its request message is a body, kept for the retry (≤ 64 KiB) and sent again over the
    // HTTP/2 hop between the agents.
    const flakyClient = echoClient(webAgent.outbound, "flaky");
    try {
      const md = new grpc.Metadata();
      md.set("x-key", "k3");
      const err = await new Promise<grpc.ServiceError | null>((resolve) => flakyClient.Unary({ text: "again" }, md, {}, (e) => resolve(e)));
      assert.equal(err, null, `${err?.code} ${err?.details}`);
      assert.equal(flaky.attempts.get("k3"), 2, "grpc-js: the first attempt failed, the retry succeeded");
    } finally {
      flakyClient.close();
    }
    // Without the class in retryOn the same answer reaches the caller as it is.
    await admin.mutate("traffic.update", { service: "flaky", patch: { retries: { attempts: 2, retryOn: ["5xx"], nonIdempotent: true } } });
    await eventually(
      async () =>
        (await adminJson(webAgent, "/config")).snapshot?.services?.some(
          (s: { name: string; retries?: { retryOn: string[] } }) => s.name === "flaky" && s.retries?.retryOn.join() === "5xx",
        ),
      15_000,
      "policy without unavailable applied",
    );
    const plain = await rawGrpc(webAgent.outbound, "flaky", null, { "x-key": "k2" });
    assert.equal(plain.headers["grpc-status"], "14");
    assert.equal(plain.endedWithHead, true);
    assert.equal(flaky.attempts.get("k2"), 1);
  });
});

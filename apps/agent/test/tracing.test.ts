/** The tracer on its own: trace-context continuation, head sampling, the tail rule, the bounded span buffer. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { telemetryFrameSchema } from "@trellis/protocol";
import type { Exchange } from "../src/proxy/exchange.ts";
import { EdgeRegistry } from "../src/telemetry/edges.ts";
import { TelemetryReporter } from "../src/telemetry/reporter.ts";
import { Tracer } from "../src/telemetry/tracing.ts";

/** The fields of an exchange the tracer reads and writes. */
function fakeExchange(headers: string[], over: Partial<Exchange> = {}): Exchange {
  return {
    headers,
    trace: null,
    start: performance.now(),
    path: "/items?x=1",
    req: { method: "GET" },
    status: 200,
    failed: false,
    error: null,
    service: "catalog",
    route: null,
    subset: null,
    target: null,
    source: null,
    dispatches: 1,
    dispatchAt: performance.now(),
    attemptLog: null,
    peer: null,
    mtls: false,
    ...over,
  } as unknown as Exchange;
}

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

test("continues an incoming traceparent: same trace, caller's span as parent, own span id forwarded, flag kept", () => {
  const t = new Tracer("web", "v1");
  const headers = ["Host", "catalog", "traceparent", `00-${TRACE}-${PARENT}-01`, "tracestate", "k=v", "b3", "x"];
  const ex = fakeExchange(headers);
  t.begin(ex);
  assert.equal(ex.trace!.traceId, TRACE);
  assert.equal(ex.trace!.parentSpanId, PARENT);
  assert.equal(ex.trace!.sampled, true);
  assert.match(ex.trace!.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(ex.trace!.spanId, PARENT);
  assert.equal(headers[3], `00-${TRACE}-${ex.trace!.spanId}-01`, "the next hop's parent is this span");
  assert.deepEqual(headers.slice(4), ["tracestate", "k=v", "b3", "x"], "tracestate and B3 pass through");
  t.end(ex, "client", 3);
  const [span] = t.take();
  assert.equal(span.traceId, TRACE);
  assert.equal(span.parentSpanId, PARENT);
  assert.equal(span.kind, "client");
  assert.equal(span.peerService, "catalog");
  assert.equal(span.attributes["trellis.kept"], "sampled");
  assert.equal(span.events.length, 1);
});

test("mTLS hops: the server span carries the caller's identity (from its certificate) and the mtls flag; plaintext hops say so", () => {
  const t = new Tracer("catalog", "v1");
  t.configure({ sampleRate: 1, slowThresholdMs: 1000, slowThresholdMsByService: {} });
  const peer = "spiffe://trellis.local/service/web";
  const server = fakeExchange(["traceparent", `00-${TRACE}-${PARENT}-01`], { source: "web/v1", peer, mtls: true } as Partial<Exchange>);
  t.begin(server);
  t.end(server, "server", 2);
  const client = fakeExchange([], { mtls: true });
  t.begin(client);
  t.end(client, "client", 2);
  const plain = fakeExchange([]);
  t.begin(plain);
  t.end(plain, "server", 2);
  const [s, c, p] = t.take();
  assert.equal(s.kind, "server");
  assert.equal(s.attributes["trellis.peer_identity"], peer);
  assert.equal(s.attributes["trellis.mtls"], true);
  assert.equal(c.kind, "client");
  assert.equal(c.attributes["trellis.mtls"], true);
  assert.equal(p.attributes["trellis.mtls"], false);
  assert.equal(p.attributes["trellis.peer_identity"], undefined, "no certificate, no identity");
});

test("an unsampled flag is honoured, a malformed traceparent starts a new trace, no traceparent is added", () => {
  const t = new Tracer("web", "v1");
  t.configure({ sampleRate: 1, slowThresholdMs: 1000, slowThresholdMsByService: {} });
  const unsampled = fakeExchange(["traceparent", `00-${TRACE}-${PARENT}-00`]);
  t.begin(unsampled);
  assert.equal(unsampled.trace!.sampled, false, "the caller's decision wins over the local rate");
  assert.ok(unsampled.headers[1].endsWith("-00"));
  const bad = fakeExchange(["traceparent", "00-zzzz-nope-01"]);
  t.begin(bad);
  assert.notEqual(bad.trace!.traceId, TRACE);
  assert.match(bad.trace!.traceId, /^[0-9a-f]{32}$/);
  assert.equal(bad.trace!.parentSpanId, "");
  const none: string[] = ["Host", "x"];
  const fresh = fakeExchange(none);
  t.begin(fresh);
  assert.equal(none[2], "traceparent");
  assert.equal(none[3], `00-${fresh.trace!.traceId}-${fresh.trace!.spanId}-01`, "rate 1: a new trace is sampled");
});

test("tail rule: unsampled requests are kept only when they fail or are slow (per-service threshold)", () => {
  const t = new Tracer("cart", "v1");
  t.configure({ sampleRate: 0, slowThresholdMs: 1000, slowThresholdMsByService: { catalog: 50 } });
  const mk = (over: Partial<Exchange>) => {
    const ex = fakeExchange([], over);
    t.begin(ex);
    assert.equal(ex.trace!.sampled, false);
    return ex;
  };
  t.end(mk({}), "client", 10); // fast, fine → dropped
  t.end(mk({ status: 503 }), "client", 10); // 5xx → kept
  t.end(mk({}), "client", 60); // slower than catalog's 50 ms → kept
  t.end(mk({}), "server", 60); // the server span uses cart's threshold (1000 ms) → dropped
  const spans = t.take();
  assert.deepEqual(
    spans.map((s) => s.attributes["trellis.kept"]),
    ["error", "slow"],
  );
  assert.equal(spans[0].error, "http-503");
});

test("the span buffer is bounded (oldest dropped) and spans wait while the link is down", () => {
  const t = new Tracer("web", "v1", { maxBuffered: 5 });
  t.configure({ sampleRate: 1, slowThresholdMs: 1000, slowThresholdMsByService: {} });
  for (let i = 0; i < 8; i++) {
    const ex = fakeExchange([], { path: `/n/${i}` });
    t.begin(ex);
    t.end(ex, "server", 1);
  }
  assert.equal(t.buffered, 5);
  assert.equal(t.dropped, 3);
  let up = false;
  const sent: unknown[] = [];
  const reporter = new TelemetryReporter(
    new EdgeRegistry(),
    (f) => {
      if (!up) return false;
      sent.push(f);
      return true;
    },
    t,
  );
  assert.equal(reporter.flush(), false);
  assert.equal(t.buffered, 5, "kept while the console is away");
  up = true;
  assert.equal(reporter.flush(), true);
  const frame = telemetryFrameSchema.parse(sent[0]);
  assert.deepEqual(
    frame.window.spans.map((s) => s.attributes["http.target"]),
    ["/n/3", "/n/4", "/n/5", "/n/6", "/n/7"],
    "the newest five, oldest first, valid protocol spans",
  );
  assert.equal(t.buffered, 0);
});

test("B3 single header: continued when no traceparent is present; 64-bit ids padded; traceparent and b3 sent on", () => {
  const t = new Tracer("web", "v1");
  const headers = ["Host", "catalog", "b3", `a3ce929d0e0e4736-${PARENT}-1-05e3ac9a4f6e3b90`];
  const ex = fakeExchange(headers);
  t.begin(ex);
  const tc = ex.trace!;
  assert.equal(tc.traceId, "0000000000000000a3ce929d0e0e4736", "a 64-bit B3 trace id padded to 128 bits");
  assert.equal(tc.parentSpanId, PARENT);
  assert.equal(tc.sampled, true);
  assert.equal(headers[3], `a3ce929d0e0e4736-${tc.spanId}-1-${PARENT}`, "b3 points at this hop, the caller's span as parent");
  assert.deepEqual(headers.slice(4), ["traceparent", `00-${tc.traceId}-${tc.spanId}-01`]);
  t.end(ex, "client", 1);
  const [span] = t.take();
  assert.equal(span.traceId, tc.traceId);
  assert.equal(span.parentSpanId, PARENT);
});

test("B3 multi headers: trace id, span id, sampled and debug flags; parent header written", () => {
  const t = new Tracer("web", "v1");
  const headers = ["X-B3-TraceId", TRACE, "X-B3-SpanId", PARENT, "X-B3-Sampled", "0"];
  const ex = fakeExchange(headers);
  t.begin(ex);
  assert.equal(ex.trace!.traceId, TRACE);
  assert.equal(ex.trace!.parentSpanId, PARENT);
  assert.equal(ex.trace!.sampled, false, "the caller's decision");
  assert.deepEqual(headers, [
    "X-B3-TraceId",
    TRACE,
    "X-B3-SpanId",
    ex.trace!.spanId,
    "X-B3-Sampled",
    "0",
    "x-b3-parentspanid",
    PARENT,
    "traceparent",
    `00-${TRACE}-${ex.trace!.spanId}-00`,
  ]);
  const debug = fakeExchange(["x-b3-traceid", TRACE, "x-b3-spanid", PARENT, "x-b3-flags", "1"]);
  t.begin(debug);
  assert.equal(debug.trace!.sampled, true, "debug means sampled");
  const undecided = fakeExchange(["x-b3-traceid", TRACE, "x-b3-spanid", PARENT]);
  t.sampleRate = 1;
  t.begin(undecided);
  assert.equal(undecided.trace!.sampled, true, "no flag: the hop's own sampling decides");
  assert.deepEqual(undecided.headers.slice(6, 8), ["x-b3-sampled", "1"], "x-b3-sampled added with the decision");
});

test("B3 is ignored when a traceparent is present, and when malformed; a lone b3 flag is a decision only", () => {
  const t = new Tracer("web", "v1");
  const both = fakeExchange(["b3", `a3ce929d0e0e4736-${PARENT}-1`, "traceparent", `00-${TRACE}-${PARENT}-01`]);
  t.begin(both);
  assert.equal(both.trace!.traceId, TRACE);
  assert.equal(both.headers[1], `a3ce929d0e0e4736-${PARENT}-1`, "passed through untouched");
  for (const bad of ["zz-11", `${TRACE}-short-1`, `${TRACE}-${PARENT}-x`, `00000000000000000000000000000000-${PARENT}-1`]) {
    const ex = fakeExchange(["b3", bad]);
    t.begin(ex);
    assert.equal(ex.trace!.parentSpanId, "", `${bad}: a new trace`);
    assert.equal(ex.headers[1], bad);
  }
  t.sampleRate = 1;
  const deny = fakeExchange(["b3", "0"]);
  t.begin(deny);
  assert.equal(deny.trace!.sampled, false, "b3: 0 is a decision not to sample");
  assert.equal(deny.trace!.parentSpanId, "");
});

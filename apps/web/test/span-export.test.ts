/** Span export formats (Zipkin v2 JSON, OTLP URL) and the one HTTP batch exporter they share (bounded backlog). */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import type { Span } from "@trellis/protocol";
import { eventually } from "@trellis/testkit";
import type { Logger } from "../server/log.ts";
import { HttpSpanExporter, parseHeaderList } from "../server/observability/batch-export.ts";
import { otlpEncoding } from "../server/observability/otlp.ts";
import { toZipkinSpan, zipkinEncoding, zipkinOptionsFromEnv } from "../server/observability/zipkin.ts";

const span: Span = {
  traceId: "0000000000000000a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  parentSpanId: "05e3ac9a4f6e3b90",
  kind: "client",
  service: "web",
  version: "v1",
  peerService: "cart",
  name: "POST cart/items",
  startTimeUnixMs: 1_764_650_000_123.456,
  durationMs: 3.2,
  status: 503,
  error: "upstream-connect-refused",
  attributes: { "http.status_code": 503, "trellis.mtls": true, "trellis.route": "cart" },
  events: [{ name: "attempt", timeUnixMs: 1_764_650_000_124, attributes: { attempt: 1, endpoint: "127.0.0.1:9" } }],
};

test("a span in Zipkin v2 JSON: ids, kind, µs timestamps, endpoints, string tags, annotations", () => {
  assert.deepEqual(toZipkinSpan(span), {
    traceId: span.traceId,
    id: span.spanId,
    parentId: span.parentSpanId,
    name: "post cart/items",
    kind: "CLIENT",
    timestamp: 1_764_650_000_123_456,
    duration: 3200,
    localEndpoint: { serviceName: "web" },
    remoteEndpoint: { serviceName: "cart" },
    tags: { "trellis.version": "v1", "http.status_code": "503", "trellis.mtls": "true", "trellis.route": "cart", error: "upstream-connect-refused" },
    annotations: [{ timestamp: 1_764_650_000_124_000, value: "attempt attempt=1 endpoint=127.0.0.1:9" }],
  });
  const root = toZipkinSpan({ ...span, kind: "server", parentSpanId: undefined, durationMs: 0.0001, events: [] });
  assert.equal(root.kind, "SERVER");
  assert.equal("parentId" in root, false);
  assert.equal(root.duration, 1, "at least 1 µs");
  assert.equal("annotations" in root, false);
});

test("endpoints and options", () => {
  assert.equal(zipkinEncoding.url("http://z:9411/"), "http://z:9411/api/v2/spans");
  assert.equal(zipkinEncoding.url("http://z:9411/api/v2/spans"), "http://z:9411/api/v2/spans");
  assert.equal(otlpEncoding.url("http://o:4318"), "http://o:4318/v1/traces");
  assert.equal(zipkinOptionsFromEnv({}), null);
  assert.deepEqual(zipkinOptionsFromEnv({ TRELLIS_ZIPKIN_ENDPOINT: "http://z:9411", TRELLIS_ZIPKIN_HEADERS: "a=1, b = 2,bad" }), {
    endpoint: "http://z:9411",
    headers: { a: "1", b: "2" },
  });
  assert.deepEqual(parseHeaderList(undefined), {});
});

test("the shared exporter posts one batch at a time and keeps a bounded backlog (oldest dropped)", async () => {
  const bodies: unknown[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      await gate;
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const quiet = { warn() {}, info() {}, error() {}, child: () => quiet } as unknown as Logger;
  const exp = new HttpSpanExporter(zipkinEncoding, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxBacklog: 2 }, quiet);
  try {
    for (let i = 0; i < 5; i++) exp.export([{ ...span, spanId: `00000000000000${i}1` }]);
    await eventually(async () => bodies.length === 1, 5_000, "the first batch is in flight");
    release();
    await eventually(async () => exp.sentSpans === 3, 5_000, "the first batch and the newest two sent");
    assert.deepEqual(
      bodies.map((b) => (b as { id: string }[])[0].id),
      ["0000000000000001", "0000000000000031", "0000000000000041"],
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
});

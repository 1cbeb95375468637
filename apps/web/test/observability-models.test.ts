/** Pure view-models of the observability pages: metric series binning and the trace waterfall. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUCKET_COUNT, emptyHistogram, observe } from "@trellis/protocol";
import { binSecondsFor, buildSeries, type MetricPoint } from "../shared/metric-series.ts";
import { buildWaterfall, type WaterfallSpan } from "../shared/waterfall.ts";
import { edgeFromId } from "../src/components/EdgePanel.tsx";
import { parseTraceFilter, tracesHref } from "../src/lib/trace-links.ts";

function point(sec: number, latencies: number[], errors = 0): MetricPoint {
  const h = emptyHistogram();
  for (const l of latencies) observe(h, l);
  return { sec, requests: latencies.length, errors, counts: h.counts, sumMs: h.sumMs };
}

describe("metric series", () => {
  test("bin width keeps ≤ ~100 points and whole minutes once rollups are used", () => {
    assert.equal(binSecondsFor(300), 5);
    assert.equal(binSecondsFor(900), 10);
    assert.equal(binSecondsFor(3600), 60);
    assert.equal(binSecondsFor(6 * 3600), 300);
    assert.equal(binSecondsFor(86_400), 900);
    for (const r of [300, 900, 3600, 6 * 3600, 86_400]) assert.ok(r / binSecondsFor(r) <= 100);
  });

  test("bins every slot (zeros where idle), rates per second, exact merged percentiles and error %", () => {
    const from = 1_000_000;
    const to = from + 29;
    const bins = buildSeries([point(from, [1, 1, 1, 1]), point(from + 1, [1, 1, 1, 1, 100], 1), point(from + 20, [5, 5])], from, to, 10);
    assert.equal(bins.length, 3);
    assert.deepEqual(
      bins.map((b) => b.t / 1000),
      [from, from + 10, from + 20],
    );
    assert.equal(bins[0].requests, 9);
    assert.equal(bins[0].rps, 0.9);
    assert.equal(bins[0].errors, 1);
    assert.equal(bins[0].errorPct, 11.11);
    assert.ok(bins[0].p50Ms <= 1.5 && bins[0].p99Ms >= 50, `percentiles from the merged histogram: ${JSON.stringify(bins[0])}`);
    assert.deepEqual([bins[1].rps, bins[1].p99Ms, bins[1].errorPct], [0, 0, 0]);
    assert.equal(bins[2].rps, 0.2);
  });

  test("a rollup minute and live seconds in one 60-s bin add up; points outside the range are ignored", () => {
    const from = 6_000_000; // minute-aligned
    const minute = point(from, new Array(120).fill(3), 6);
    assert.equal(minute.counts.length, BUCKET_COUNT);
    const bins = buildSeries([minute, point(from + 60, [3]), point(from - 1, [3]), point(from + 500, [3])], from, from + 119, 60);
    assert.deepEqual(
      bins.map((b) => b.requests),
      [120, 1],
    );
    assert.equal(bins[0].rps, 2);
    assert.equal(bins[0].errorPct, 5);
  });
});

function span(id: string, parent: string | null, start: number, dur: number, over: Partial<WaterfallSpan> = {}): WaterfallSpan {
  return {
    spanId: id,
    parentSpanId: parent,
    kind: "server",
    service: id,
    peerService: null,
    name: `GET /${id}`,
    startUnixMs: start,
    durationMs: dur,
    status: 200,
    error: null,
    attributes: {},
    events: [],
    ...over,
  };
}

describe("trace waterfall", () => {
  test("tree order with depth, bars as fractions of the trace, errors flagged, attempts as sub-bars", () => {
    const w = buildWaterfall([
      span("c2", "s1", 1020, 40, { kind: "client", service: "web", peerService: "payments", status: 503, error: "http-503" }),
      span("s1", "ext", 1000, 100, { service: "web", peerService: "ingress" }),
      span("c1", "s1", 1005, 10, {
        kind: "client",
        service: "web",
        peerService: "cart",
        events: [
          {
            name: "attempt",
            timeUnixMs: 1005,
            attributes: { attempt: 1, endpoint: "127.0.0.1:1", durationMs: 1, error: "upstream-connect-refused" },
          },
          { name: "attempt", timeUnixMs: 1006, attributes: { attempt: 2, endpoint: "127.0.0.1:2", durationMs: 9, status: 200 } },
        ],
      }),
      span("s2", "c1", 1007, 6, { service: "cart", peerService: "web" }),
    ]);
    assert.deepEqual(
      w.rows.map((r) => [r.span.spanId, r.depth]),
      [
        ["s1", 0],
        ["c1", 1],
        ["s2", 2],
        ["c2", 1],
      ],
    );
    assert.equal(w.durationMs, 100);
    const c2 = w.rows[3];
    assert.equal(c2.left, 0.2);
    assert.equal(c2.width, 0.4);
    assert.equal(c2.isError, true);
    assert.equal(c2.label, "web → payments");
    assert.equal(w.errorCount, 1);
    assert.equal(w.rows[0].orphan, true, "the caller's span was not stored");
    const attempts = w.rows[1].attempts;
    assert.equal(w.retriedSpans, 1);
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome, a.failed]),
      [
        [1, "upstream-connect-refused", true],
        [2, "200", false],
      ],
    );
    assert.equal(attempts[1].left, 0.06);
  });

  test("empty and malformed (self-parented) input", () => {
    assert.equal(buildWaterfall([]).rows.length, 0);
    const w = buildWaterfall([span("a", "a", 0, 1)]);
    assert.equal(w.rows.length, 1);
  });
});

describe("trace links", () => {
  test("filters round-trip through the URL; graph edge ids name the services", () => {
    const href = tracesHref({ service: "web", peer: "payments", errorsOnly: true, minDurationMs: 20, sort: "slowest" });
    assert.equal(href, "/traces?service=web&peer=payments&errors=1&minMs=20&sort=slowest");
    const f = parseTraceFilter(new URLSearchParams(href.split("?")[1]));
    assert.deepEqual(f, { service: "web", peer: "payments", errorsOnly: true, minDurationMs: 20, sinceSeconds: 3600, sort: "slowest" });
    assert.deepEqual(edgeFromId("e:web@v1->payments@v2", "x"), { source: "web", destination: "payments", label: "x" });
    assert.equal(edgeFromId("n:web"), null);
  });
});

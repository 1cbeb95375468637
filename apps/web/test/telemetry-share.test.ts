/**
 * Sharing live telemetry between replicas, in process: two stores (replica A and B), agents' windows split between
 * them, deltas flushed through a fake bus. Every second's totals on each replica equal those of one store that got
 * every window; chunks stay under the NOTIFY limit; a bad chunk is rejected without harming the store.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { EdgeStats, TelemetryWindow } from "@trellis/protocol";
import { createLogger } from "../server/log.ts";
import { chunk, decodeChunk, encodeRecord, MAX_CHUNK_BYTES, TelemetryShare } from "../server/replicas/telemetry-share.ts";
import { TelemetryStore } from "../server/telemetry-store.ts";
import { aggregatePairs } from "../shared/edge-stats.ts";

const log = { ...createLogger({ component: "test" }), warn() {} };
const NOW = Date.parse("2026-12-02T12:00:00Z");

function edge(source: string, destination: string, requests: number, over: Partial<EdgeStats> = {}): EdgeStats {
  const counts = new Array(20).fill(0);
  counts[3] = requests - 1;
  counts[12] = 1;
  return {
    source,
    sourceVersion: "v1",
    destination,
    destinationVersion: "v2",
    statusClass: "2xx",
    requests,
    errors: 0,
    bytesIn: requests * 100,
    bytesOut: requests * 50,
    mtls: requests,
    latency: { counts, sumMs: requests * 1.25 },
    ...over,
  };
}

function window(secOffset: number, edges: EdgeStats[]): TelemetryWindow {
  return { windowStart: NOW + secOffset * 1000, windowMs: 1000, edges, spans: [], denials: [] } as unknown as TelemetryWindow;
}

describe("telemetry share between replicas", () => {
  test("each replica ends with every agent's traffic, exactly once", () => {
    const a = new TelemetryStore();
    const b = new TelemetryStore();
    const all = new TelemetryStore();
    const toB: string[] = [];
    const toA: string[] = [];
    const shareA = new TelemetryShare(a, (c) => toB.push(c), 500, log);
    const shareB = new TelemetryShare(b, (c) => toA.push(c), 500, log);
    for (let s = -5; s < 0; s++) {
      for (let agent = 0; agent < 20; agent++) {
        const w = window(s, [edge(`web${agent % 3}`, "payments", 10 + agent), edge("web0", "catalog", 3, { statusClass: "5xx", errors: 3 })]);
        all.ingest(w, NOW);
        (agent % 2 === 0 ? shareA : shareB).ingest(w, NOW);
        // Flushes in the middle of a second: its windows are split between deltas.
        if (agent === 7) {
          shareA.flush();
          shareB.flush();
        }
      }
    }
    shareA.flush();
    shareB.flush();
    for (const c of toA) shareA.receive(c, NOW);
    for (const c of toB) shareB.receive(c, NOW);
    const totals = (st: TelemetryStore) => aggregatePairs(st.range(0, NOW / 1000));
    assert.deepEqual(totals(a), totals(all));
    assert.deepEqual(totals(b), totals(all));
    for (let s = -5; s < 0; s++) {
      const sec = NOW / 1000 + s;
      assert.deepEqual(aggregatePairs(a.range(sec, sec)), aggregatePairs(all.range(sec, sec)), `second ${s}`);
    }
    assert.ok(shareA.stats.recordsSent > 0 && shareB.stats.recordsMerged === shareA.stats.recordsSent);
    // Received chunks are merged, not shared on: nothing new to send.
    const before = toB.length;
    shareA.flush();
    assert.equal(toB.length, before);
  });

  test("chunks stay under the NOTIFY payload limit and round-trip", () => {
    const records: string[] = [];
    for (let i = 0; i < 400; i++)
      records.push(
        encodeRecord(
          1_800_000_000 + (i % 3),
          edge(`service-${i}`, `destination-with-a-long-name-${i}`, 5 + i, { connectionsOpened: 2, connectionsOpen: 1 }),
        ),
      );
    const chunks = chunk(records);
    assert.ok(chunks.length > 1);
    for (const c of chunks) assert.ok(Buffer.byteLength(c) <= MAX_CHUNK_BYTES, `${Buffer.byteLength(c)} bytes`);
    const decoded = chunks.flatMap((c) => decodeChunk(c));
    assert.equal(decoded.length, 400);
    assert.equal(decoded[7].edge.requests, 12);
    assert.equal(decoded[7].edge.connectionsOpen, 1);
    assert.equal(decoded[7].sec, 1_800_000_001);
  });

  test("mirrored copies and gRPC status codes travel with their records, with and without connection fields", () => {
    const plain = edge("web", "payments", 10, { mirrored: 4, grpcStatus: { "0": 8, "14": 2 } });
    const tunnel = edge("web", "cart", 3, { connectionsOpened: 1, connectionsOpen: 1, mirrored: 1 });
    const [a, b] = decodeChunk(chunk([encodeRecord(1, plain), encodeRecord(2, tunnel)])[0]);
    assert.equal(a.edge.mirrored, 4);
    assert.deepEqual(a.edge.grpcStatus, { "0": 8, "14": 2 });
    assert.equal(a.edge.connectionsOpen, undefined);
    assert.equal(b.edge.mirrored, 1);
    assert.equal(b.edge.connectionsOpen, 1);
    assert.equal(b.edge.grpcStatus, undefined);
  });

  test("a malformed chunk is rejected; invalid records are dropped", () => {
    const st = new TelemetryStore();
    const share = new TelemetryShare(st, () => undefined, 500, log);
    share.receive("not json", NOW);
    assert.equal(share.stats.chunksRejected, 1);
    share.receive(JSON.stringify([[NOW / 1000 - 1, "web", "v1", "payments", "v1", "2xx", -5, 0, 0, 0, 0, 0, []]]), NOW);
    assert.equal(st.recordCount, 0, "negative counts fail the protocol's schema");
  });
});

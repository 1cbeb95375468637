/** The per-agent delivery state machine (pure; the clock is a number the test passes). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { acked, type Delivery, nacked, newDelivery, offer, overdue, sent, syncOf, syncRow } from "../server/control-plane/delivery.ts";

const TIMEOUT = 15_000;

/** What the sender does with the machine: send the newest version unless one is in flight. */
function deliver(d: Delivery, version: number, now: number, log: number[]): Delivery {
  const o = offer(d, now, TIMEOUT);
  if (!o.send) return o.next;
  log.push(version);
  return sent(d, version, `n${version}`, now);
}

describe("delivery", () => {
  test("a new agent holds the version it said it has and is UNKNOWN until something is sent", () => {
    const d = newDelivery(7);
    assert.equal(d.ackedVersion, 7);
    assert.equal(d.syncState, "UNKNOWN");
    assert.equal(d.inFlight, null);
    assert.equal(d.pending, false);
  });

  test("send → STALE with the snapshot in flight; its ack → SYNCED", () => {
    const o = offer(newDelivery(), 1_000, TIMEOUT);
    assert.deepEqual(o, { send: true });
    const d = sent(newDelivery(), 3, "abc", 1_000);
    assert.deepEqual(d.inFlight, { version: 3, nonce: "abc", sentAt: 1_000 });
    assert.equal(d.sentVersion, 3);
    assert.equal(d.syncState, "STALE");
    const a = acked(d, { version: 3, nonce: "abc" })!;
    assert.equal(a.syncState, "SYNCED");
    assert.equal(a.ackedVersion, 3);
    assert.equal(a.inFlight, null);
    assert.equal(a.ackedSinceWrite, true);
  });

  test("at most one snapshot in flight: a newer version waits, and SYNCED turns STALE", () => {
    let d = sent(newDelivery(), 1, "n1", 0);
    d = acked(d, { version: 1, nonce: "n1" })!;
    d = sent(d, 2, "n2", 100);
    const o = offer(d, 200, TIMEOUT);
    assert.equal(o.send, false);
    if (o.send) return;
    assert.equal(o.next.pending, true);
    assert.equal(o.next.inFlight?.version, 2, "the in-flight one is untouched");
    // An agent SYNCED on an old version that gets a newer one queued is STALE.
    const synced: Delivery = { ...d, syncState: "SYNCED" };
    const o2 = offer(synced, 200, TIMEOUT);
    assert.equal(!o2.send && o2.next.syncState, "STALE");
  });

  test("newest wins: versions offered while one is in flight collapse into the newest, sent on the ack", () => {
    const sentVersions: number[] = [];
    let d = deliver(newDelivery(), 1, 0, sentVersions);
    for (const v of [2, 3, 4]) d = deliver(d, v, 10 * v, sentVersions);
    assert.deepEqual(sentVersions, [1]);
    d = acked(d, { version: 1, nonce: "n1" })!;
    assert.equal(d.syncState, "STALE", "acked, but a newer one is pending");
    assert.equal(d.pending, true);
    d = deliver(d, 4, 100, sentVersions);
    assert.deepEqual(sentVersions, [1, 4]);
    assert.equal(d.pending, false);
    d = acked(d, { version: 4, nonce: "n4" })!;
    assert.equal(d.syncState, "SYNCED");
    assert.equal(d.ackedVersion, 4);
  });

  test("an ack or nack that is not for the in-flight snapshot is ignored", () => {
    const d = sent(newDelivery(), 5, "right", 0);
    assert.equal(acked(d, { version: 5, nonce: "wrong" }), null);
    assert.equal(acked(d, { version: 4, nonce: "right" }), null);
    assert.equal(nacked(d, { version: 5, nonce: "wrong", error: "x" }), null);
    assert.equal(acked(newDelivery(), { version: 5, nonce: "right" }), null, "nothing in flight");
    const done = acked(d, { version: 5, nonce: "right" })!;
    assert.equal(acked(done, { version: 5, nonce: "right" }), null, "a duplicate ack");
  });

  test("NACK: the agent keeps its last good version; the reason stays until a newer version is acked", () => {
    let d = sent(newDelivery(2), 3, "n3", 0);
    d = nacked(d, { version: 3, nonce: "n3", error: "bad route" })!;
    assert.equal(d.syncState, "NACKED");
    assert.equal(d.ackedVersion, 2);
    assert.equal(d.sentVersion, 3);
    assert.equal(d.inFlight, null);
    assert.equal(syncRow("a-1", d).row.syncError, "v3: bad route");
    d = sent(d, 4, "n4", 10);
    assert.equal(d.syncState, "STALE");
    assert.equal(syncRow("a-1", d).row.syncError, "v3: bad route", "still visible while v4 is in flight");
    d = acked(d, { version: 4, nonce: "n4" })!;
    assert.equal(d.lastError, null);
    assert.equal(syncRow("a-1", d).row.syncError, null);
  });

  test("a NACK with a newer version pending leaves it pending for the caller to send", () => {
    let d = sent(newDelivery(), 1, "n1", 0);
    const o = offer(d, 5, TIMEOUT);
    assert.equal(o.send, false);
    if (!o.send) d = o.next;
    d = nacked(d, { version: 1, nonce: "n1", error: "no" })!;
    assert.equal(d.pending, true);
    assert.equal(d.syncState, "NACKED");
    assert.equal(offer(d, 6, TIMEOUT).send, true, "nothing in flight any more");
  });

  test("an in-flight snapshot older than the ack timeout no longer blocks the newest", () => {
    let d = sent(newDelivery(), 1, "n1", 1_000);
    assert.equal(overdue(d, 1_000 + TIMEOUT, TIMEOUT), false, "nothing pending");
    const o = offer(d, 1_000 + TIMEOUT - 1, TIMEOUT);
    assert.equal(o.send, false);
    if (!o.send) d = o.next;
    assert.equal(overdue(d, 1_000 + TIMEOUT - 1, TIMEOUT), false);
    assert.equal(overdue(d, 1_000 + TIMEOUT, TIMEOUT), true);
    assert.deepEqual(offer(d, 1_000 + TIMEOUT, TIMEOUT), { send: true });
    d = sent(d, 2, "n2", 1_000 + TIMEOUT);
    assert.equal(acked(d, { version: 1, nonce: "n1" }), null, "the late ack of the superseded one is stale");
  });

  test("the database row: an ack is reported once, the error is capped", () => {
    let d = sent(newDelivery(), 1, "n1", 0);
    d = acked(d, { version: 1, nonce: "n1" })!;
    const first = syncRow("a-1", d);
    assert.deepEqual(first.row, { instanceId: "a-1", sentVersion: 1, ackedVersion: 1, syncState: "SYNCED", syncError: null, acked: true });
    assert.equal(syncRow("a-1", first.next).row.acked, false);
    const long = nacked(sent(first.next, 2, "n2", 1), { version: 2, nonce: "n2", error: "x".repeat(5_000) })!;
    assert.equal(syncRow("a-1", long).row.syncError?.length, 4096);
  });

  test("syncOf: applied (this version or newer), NACKed (sent this version or newer), pending", () => {
    const ok = acked(sent(newDelivery(), 5, "a", 0), { version: 5, nonce: "a" })!;
    const newer = acked(sent(newDelivery(), 6, "b", 0), { version: 6, nonce: "b" })!;
    const refused = nacked(sent(newDelivery(4), 5, "c", 0), { version: 5, nonce: "c", error: "bad" })!;
    const refusedOlder = nacked(sent(newDelivery(3), 4, "d", 0), { version: 4, nonce: "d", error: "old" })!;
    const waiting = sent(newDelivery(4), 5, "e", 0);
    const s = syncOf(5, [
      { instanceId: "ok", delivery: ok },
      { instanceId: "newer", delivery: newer },
      { instanceId: "refused", delivery: refused },
      { instanceId: "refused-older", delivery: refusedOlder },
      { instanceId: "waiting", delivery: waiting },
    ]);
    assert.deepEqual(s, { version: 5, total: 5, applied: 2, nacked: 1, pending: 2, errors: ["refused: bad"] });
  });
});

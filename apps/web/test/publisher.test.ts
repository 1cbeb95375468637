/**
 * The publisher in-process with a fake clock (node:test mock timers), in-memory repositories and fake sockets:
 * debounced rounds, publish() resolving with the version its change went out with, the telemetry sampling policy read
 * at each round, and an mTLS change staged through PERMISSIVE until every agent acked or the stage timed out.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { MtlsMode } from "@trellis/protocol";
import type { WebSocket } from "ws";
import { Publisher } from "../server/control-plane/publisher.ts";
import { SessionRegistry } from "../server/control-plane/registry.ts";
import { RestartGrace } from "../server/control-plane/restart-grace.ts";
import { SerialQueue } from "../server/control-plane/serial.ts";
import type { AgentSession } from "../server/control-plane/session.ts";
import { createLogger } from "../server/log.ts";
import type { EndpointRow, Repositories } from "../server/repositories/index.ts";
import type { TelemetryPolicy } from "../server/repositories/telemetry-policy.ts";

const quiet = { ...createLogger(), info() {}, warn() {}, debug() {}, error() {} };
const DEBOUNCE = 30;
const STAGE_TIMEOUT = 5_000;

interface SentSnapshot {
  version: number;
  nonce: string;
  snapshot: { service: string; services: { name: string; mtls: MtlsMode }[]; telemetry?: { sampleRate: number } };
}

/** The mesh state a round reads. */
let state: { version: number; key?: string; endpoints: EndpointRow[]; mtls: Map<string, MtlsMode>; telemetry: TelemetryPolicy };
let sessions: SessionRegistry;
let publisher: Publisher;

const repos = {
  services: { summaries: async () => [...new Set(state.endpoints.map((e) => e.service))].map((name) => ({ name, versions: [{ version: "v1" }] })) },
  instances: { connectedEndpoints: async () => state.endpoints },
  policies: { all: async () => new Map() },
  telemetryPolicy: { get: async () => state.telemetry },
  security: { mtlsModes: async () => state.mtls, meshDefault: async () => "PERMISSIVE", authzByService: async () => new Map() },
  meshState: {
    currentVersion: async () => state.version,
    versionFor: async (key: string, atLeast = 0) => {
      if (state.key === key && state.version > atLeast) return { version: state.version, cut: false };
      state.version = Math.max(state.version, atLeast) + 1;
      state.key = key;
      return { version: state.version, cut: true };
    },
  },
} as unknown as Repositories;

/** Lets the promise chains of a round run (the fake clock does not move). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function agent(service: string, n: number): { session: AgentSession; sent: SentSnapshot[] } {
  const sent: SentSnapshot[] = [];
  const ws = { readyState: 1, send: (data: string) => sent.push(JSON.parse(data)) } as unknown as WebSocket;
  const session = sessions.open(ws, `test:${n}`);
  session.hello = {
    type: "hello",
    token: "t",
    service,
    version: "v1",
    instanceId: `${service}-${n}`,
    inboundAddress: `127.0.0.1:${7000 + n}`,
  } as never;
  session.phase = "ready";
  state.endpoints.push({ instanceId: `${service}-${n}`, service, version: "v1", address: `127.0.0.1:${7000 + n}`, lastSeen: new Date() });
  return { session, sent };
}

function ack(a: { session: AgentSession; sent: SentSnapshot[] }): void {
  const last = a.sent.at(-1)!;
  publisher.sender.ack(a.session, { type: "ack", version: last.version, nonce: last.nonce });
}

const mtlsOf = (s: SentSnapshot, service: string) => s.snapshot.services.find((x) => x.name === service)?.mtls;

const QUIET = 100;

beforeEach(async () => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  state = { version: 10, endpoints: [], mtls: new Map(), telemetry: { sampleRate: 0.01, slowThresholdMs: 1000, slowThresholdMsByService: {} } };
  sessions = new SessionRegistry();
  publisher = new Publisher({
    repos,
    db: new SerialQueue(),
    sessions,
    grace: new RestartGrace(30_000, () => {}),
    log: quiet,
    timing: { debounceMs: DEBOUNCE, membershipQuietMs: QUIET, membershipMaxMs: 1000 },
    ackTimeoutMs: 15_000,
    mtlsStageTimeoutMs: STAGE_TIMEOUT,
    onSyncChange: () => {},
  });
});

afterEach(() => {
  publisher.stop();
  publisher.clearTimers();
  mock.timers.reset();
});

describe("publisher", () => {
  test("the first round cuts a version above every version cut before", async () => {
    await publisher.start();
    assert.equal(publisher.currentVersion, 11);
  });

  test("a burst of publish() calls is one round after the debounce; each resolves with the version it went out with", async () => {
    await publisher.start();
    const a = agent("web", 1);
    publisher.scheduleRound();
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(a.sent.length, 1);
    ack(a);
    state.telemetry = { ...state.telemetry, sampleRate: 0.5 };
    const results = [publisher.publish(), publisher.publish(), publisher.publish()];
    mock.timers.tick(DEBOUNCE - 1);
    await settle();
    assert.equal(a.sent.length, 1, "nothing before the debounce");
    mock.timers.tick(1);
    const versions = await Promise.all(results);
    assert.deepEqual(versions, [13, 13, 13]);
    assert.equal(publisher.currentVersion, 13);
    assert.equal(a.sent.length, 2, "one snapshot for the burst");
    assert.equal(a.sent[1].version, 13);
    assert.equal(a.sent[1].snapshot.telemetry?.sampleRate, 0.5, "the sampling policy is read from the repositories at each round");
  });

  test("agents joining in a burst get the current version at once, and each other's endpoints in one round once quiet", async () => {
    await publisher.start();
    const roundsBefore = publisher.rounds;
    const fleet = [];
    for (let i = 0; i < 5; i++) {
      const a = agent(`svc-${i}`, i);
      publisher.welcome(a.session);
      publisher.scheduleRound("membership");
      assert.equal(a.sent.length, 1, "welcomed without waiting for a round");
      assert.equal(a.sent[0].version, 11);
      assert.equal(a.sent[0].snapshot.service, `svc-${i}`);
      ack(a);
      fleet.push(a);
      mock.timers.tick(20);
      await settle();
    }
    // The last join was 20 ms ago: the round waits for QUIET ms of quiet after it.
    mock.timers.tick(QUIET - 20 - 1);
    await settle();
    assert.ok(
      fleet.every((a) => a.sent.length === 1),
      "no round while agents keep joining",
    );
    mock.timers.tick(1);
    await settle();
    assert.equal(publisher.rounds, roundsBefore + 1, "one version for the burst");
    for (const a of fleet) {
      assert.equal(a.sent.length, 2);
      assert.equal(a.sent[1].version, 12);
      assert.equal(a.sent[1].snapshot.services.filter((s) => s.name.startsWith("svc-")).length, 5, "every peer's endpoint");
    }
    // An agent that already holds the current version is not sent it again on welcome.
    const b = agent("svc-0", 9);
    b.session.delivery = { ...b.session.delivery, ackedVersion: 12 };
    publisher.welcome(b.session);
    assert.equal(b.sent.length, 0);
  });

  test("publish() without a change resolves with the current version and sends nothing", async () => {
    await publisher.start();
    const a = agent("web", 1);
    publisher.scheduleRound();
    mock.timers.tick(DEBOUNCE);
    await settle();
    ack(a);
    const before = publisher.currentVersion;
    const p = publisher.publish();
    mock.timers.tick(DEBOUNCE);
    assert.equal(await p, before);
    assert.equal(a.sent.length, 1);
    assert.deepEqual(publisher.syncOf(before), { version: before, total: 1, applied: 1, nacked: 0, pending: 0, errors: [] });
  });

  test("STRICT → DISABLE is pushed as PERMISSIVE until every agent acked, then as DISABLE", async () => {
    state.mtls.set("api", "STRICT");
    const a = agent("api", 1);
    const b = agent("web", 2);
    await publisher.start();
    ack(a);
    ack(b);
    assert.equal(mtlsOf(a.sent[0], "api"), "STRICT");
    state.mtls.set("api", "DISABLE");
    const staged = publisher.publish();
    mock.timers.tick(DEBOUNCE);
    const stagedVersion = await staged;
    assert.equal(mtlsOf(a.sent[1], "api"), "PERMISSIVE");
    assert.equal(publisher.effectiveMtlsMode("api"), "PERMISSIVE");
    ack(a);
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(a.sent.length, 2, "b has not acked: the stage holds");
    ack(b);
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(a.sent.length, 3);
    assert.ok(a.sent[2].version > stagedVersion);
    assert.equal(mtlsOf(a.sent[2], "api"), "DISABLE");
    assert.equal(publisher.effectiveMtlsMode("api"), "DISABLE");
  });

  test("a stage that not every agent acks ends after the stage timeout", async () => {
    state.mtls.set("api", "DISABLE");
    const a = agent("api", 1);
    agent("web", 2); // never acks
    await publisher.start();
    ack(a);
    state.mtls.set("api", "STRICT");
    const staged = publisher.publish();
    mock.timers.tick(DEBOUNCE);
    await staged;
    ack(a);
    assert.equal(mtlsOf(a.sent.at(-1)!, "api"), "PERMISSIVE");
    mock.timers.tick(STAGE_TIMEOUT - 1);
    await settle();
    assert.equal(a.sent.length, 2, "still staged just before the timeout");
    mock.timers.tick(1);
    await settle();
    mock.timers.tick(DEBOUNCE);
    await settle();
    assert.equal(a.sent.length, 3);
    assert.equal(mtlsOf(a.sent[2], "api"), "STRICT");
  });
});

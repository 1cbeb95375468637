/**
 * Property-based tests (fast-check) of every frame's validation and of snapshots: arbitrary bytes, arbitrary JSON and
 * valid frames with one field broken never make a parse function throw — it returns an error naming the field — and
 * valid generated frames parse and round-trip (parse ∘ serialise is the identity on what parse returns). Bounded
 * runs; a failure prints its seed and path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BUCKET_COUNT, meshSnapshotSchema, type ParseResult, PROTOCOL_VERSION, parseAgentFrame, parseConsoleFrame, RETRY_ON } from "../src/index.ts";

const RUNS = Number(process.env.FUZZ_RUNS) || 200;
/** Snapshots are big to generate: fewer runs keep the file at a few seconds. */
const SNAPSHOT_RUNS = Math.ceil(RUNS / 5);

const parsers: [string, (raw: string | Buffer) => ParseResult<unknown>][] = [
  ["agent", parseAgentFrame],
  ["console", parseConsoleFrame],
];

function neverThrows(raw: string | Buffer): void {
  for (const [name, parse] of parsers) {
    let r: ParseResult<unknown>;
    try {
      r = parse(raw);
    } catch (err) {
      assert.fail(`parse ${name} frame threw: ${(err as Error).stack}`);
    }
    if (!r.ok) assert.equal(typeof r.error, "string");
  }
}

// ---- valid frames ----
const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
const version = fc.stringMatching(/^[A-Za-z0-9][-_.A-Za-z0-9]{0,10}$/);
const count = fc.nat({ max: 1_000_000 });
const port = fc.integer({ min: 0, max: 65535 });
const hostPort = fc.tuple(fc.oneof(label, fc.ipV4()), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`);
const nonce = fc.string({ minLength: 1, maxLength: 64 });
const isoDate = fc.date({ min: new Date(2000, 0, 1), max: new Date(2100, 0, 1), noInvalidDate: true }).map((d) => d.toISOString());
const histogram = fc.record({ counts: fc.array(count, { maxLength: BUCKET_COUNT }), sumMs: fc.double({ min: 0, max: 1e9, noNaN: true }) });
const attrs = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(fc.string({ maxLength: 8 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
  {
    maxKeys: 4,
  },
);
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));

const hello = fc.record({
  type: fc.constant("hello"),
  protocol: fc.constant(PROTOCOL_VERSION),
  token: fc.string({ maxLength: 512 }),
  service: label,
  version,
  instanceId: fc.string({ minLength: 1, maxLength: 128 }),
  inboundAddress: hostPort,
  ports: fc.record({ inbound: port, outbound: port, admin: port, app: port }),
  agentVersion: fc.string({ maxLength: 64 }),
  configVersion: count,
});
const ack = fc.record({ type: fc.constant("ack"), version: count, nonce });
const nack = fc.record({ type: fc.constant("nack"), version: count, nonce, error: fc.string({ maxLength: 4096 }) });
const csr = fc.record({ type: fc.constant("csr"), csr: fc.string({ minLength: 1, maxLength: 2000 }) });
const edge = fc.record({
  source: label,
  sourceVersion: version,
  destination: label,
  destinationVersion: version,
  statusClass: fc.constantFrom("1xx", "2xx", "3xx", "4xx", "5xx"),
  requests: count,
  errors: count,
  bytesIn: count,
  bytesOut: count,
  mtls: count,
  latency: histogram,
});
const span = fc.record(
  {
    traceId: hex(32),
    spanId: hex(16),
    parentSpanId: hex(16),
    kind: fc.constantFrom("client", "server"),
    service: label,
    version,
    peerService: label,
    name: fc.string({ maxLength: 256 }),
    startTimeUnixMs: fc.nat(),
    durationMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    status: fc.integer({ min: 0, max: 599 }),
    error: fc.string({ maxLength: 20 }),
    attributes: attrs,
    events: fc.array(fc.record({ name: fc.string({ maxLength: 64 }), timeUnixMs: fc.nat(), attributes: attrs }), { maxLength: 3 }),
  },
  { requiredKeys: ["traceId", "spanId", "kind", "service", "version", "name", "startTimeUnixMs", "durationMs", "status", "attributes", "events"] },
);
const telemetry = fc.record({
  type: fc.constant("telemetry"),
  window: fc.record({
    windowStart: fc.nat(),
    windowMs: fc.integer({ min: 1, max: 60_000 }),
    edges: fc.array(edge, { maxLength: 4 }),
    spans: fc.array(span, { maxLength: 3 }),
    denials: fc.array(fc.record({ destination: label, principal: fc.string({ maxLength: 40 }), count: fc.integer({ min: 1, max: 1000 }) }), {
      maxLength: 3,
    }),
  }),
});
const certificate = fc.record({
  type: fc.constant("certificate"),
  chain: fc.string({ minLength: 1, maxLength: 200 }),
  caBundle: fc.string({ minLength: 1, maxLength: 200 }),
  spiffeId: fc.string({ minLength: 1, maxLength: 100 }),
  notBefore: isoDate,
  notAfter: isoDate,
});
const errorFrame = fc.record({
  type: fc.constant("error"),
  code: fc.string({ maxLength: 64 }),
  message: fc.string({ maxLength: 200 }),
  fatal: fc.boolean(),
});

/** A valid snapshot: services with endpoints, splits summing to 100 over known versions, routes, policies. */
const service = fc.record({ name: label, versions: fc.uniqueArray(version, { minLength: 1, maxLength: 3 }) }).chain(({ name, versions }) => {
  const known = fc.constantFrom(...versions);
  const split = fc.shuffledSubarray(versions, { minLength: 1 }).chain((vs) =>
    fc
      .array(fc.nat({ max: 100 }), { minLength: vs.length - 1, maxLength: vs.length - 1 })
      .map((cuts) => [0, ...cuts.sort((a, b) => a - b), 100])
      .map((b) => vs.map((v, i) => ({ version: v, weight: b[i + 1] - b[i] }))),
  );
  return fc.record(
    {
      name: fc.constant(name),
      versions: fc.constant(versions),
      endpoints: fc.array(fc.record({ address: hostPort, version: known, instanceId: fc.string({ minLength: 1, maxLength: 20 }) }), { maxLength: 3 }),
      split,
      routes: fc.array(
        fc.record({
          name: fc.string({ minLength: 1, maxLength: 10 }),
          match: fc.record(
            {
              pathPrefix: fc.webPath().map((p) => `/${p.replace(/^\/+/, "")}`),
              headers: fc.array(fc.record({ name: fc.stringMatching(/^[a-z0-9-]{1,10}$/), value: fc.string({ maxLength: 10 }) }), { maxLength: 2 }),
            },
            { requiredKeys: [] },
          ),
          version: known,
        }),
        { maxLength: 2 },
      ),
      timeoutMs: fc.nat({ max: 600_000 }),
      loadBalancer: fc.constantFrom("p2c", "round-robin", "least-request"),
      mtls: fc.constantFrom("STRICT", "PERMISSIVE", "DISABLE"),
      retries: fc.record({
        attempts: fc.nat({ max: 10 }),
        perTryTimeoutMs: fc.nat({ max: 600_000 }),
        retryOn: fc.uniqueArray(fc.constantFrom(...RETRY_ON), { minLength: 1 }),
        nonIdempotent: fc.boolean(),
        budget: fc.record({ ratio: fc.double({ min: 0, max: 10, noNaN: true }), minRetriesPerSecond: fc.nat({ max: 10_000 }) }),
      }),
      authorization: fc.record({
        rules: fc.array(
          fc.record({
            principals: fc.array(fc.constantFrom("*", "spiffe://trellis.local/service/web"), { minLength: 1, maxLength: 2 }),
            methods: fc.array(fc.constantFrom("GET", "POST"), { maxLength: 2 }),
            paths: fc.array(fc.constantFrom("/", "/a", "/b/"), { maxLength: 2 }),
          }),
          { maxLength: 2 },
        ),
      }),
    },
    { requiredKeys: ["name", "versions", "endpoints"] },
  );
});
const snapshot = fc.record({
  version: count,
  service: label,
  trustDomain: fc.constant("trellis.local"),
  services: fc.uniqueArray(service, { maxLength: 4, selector: (s) => s.name }),
  issuedAt: isoDate,
});
const snapshotFrame = fc.record({ type: fc.constant("snapshot"), version: count, nonce, snapshot });

const agentFrames = fc.oneof(hello, ack, nack, csr, telemetry);
const consoleFrames = fc.oneof(snapshotFrame, certificate, errorFrame);

// ---- properties ----

test("fuzz: arbitrary bytes and strings never make a frame parser throw", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      ),
      (raw) => neverThrows(raw),
    ),
    { numRuns: RUNS },
  );
});

test("fuzz: arbitrary JSON never makes a frame parser throw; a rejection is an error string", () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => neverThrows(JSON.stringify(v) ?? "null")),
    { numRuns: RUNS },
  );
});

test("fuzz: a valid frame with one field replaced by arbitrary JSON is rejected or parsed, never thrown on", () => {
  const broken = fc.tuple(fc.oneof(agentFrames, consoleFrames), fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([frame, pick, junk]) => {
    const f = structuredClone(frame) as Record<string, unknown>;
    const keys = Object.keys(f);
    f[keys[pick % keys.length]] = junk;
    return f;
  });
  fc.assert(
    fc.property(broken, (f) => neverThrows(JSON.stringify(f))),
    { numRuns: RUNS },
  );
});

test("fuzz: adversarial JSON shapes (deep nesting, __proto__ keys, huge numbers) are rejected, not thrown on", () => {
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  neverThrows(deep);
  neverThrows(`{"type":"snapshot","version":1,"nonce":"n","snapshot":${deep}}`);
  neverThrows('{"type":"ack","__proto__":{"version":1,"nonce":"n"}}');
  const proto = parseAgentFrame('{"type":"ack","version":1,"nonce":"n","__proto__":{"polluted":true}}');
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  assert.equal(proto.ok, true);
  neverThrows('{"type":"hello","protocol":1e999,"configVersion":-0}');
  neverThrows(Buffer.from([0xff, 0xfe, 0x00, 0x7b]));
});

test("fuzz: valid agent frames parse and round-trip", () => {
  fc.assert(
    fc.property(agentFrames, (frame) => {
      const r = parseAgentFrame(JSON.stringify(frame));
      assert.ok(r.ok, !r.ok ? r.error : "");
      const again = parseAgentFrame(JSON.stringify(r.frame));
      assert.ok(again.ok);
      assert.deepEqual(again.frame, r.frame);
    }),
    { numRuns: RUNS },
  );
});

test("fuzz: valid console frames (snapshots inside) parse and round-trip; their snapshots validate", () => {
  fc.assert(
    fc.property(consoleFrames, (frame) => {
      const r = parseConsoleFrame(JSON.stringify(frame));
      assert.ok(r.ok, !r.ok ? r.error : "");
      assert.deepEqual(parseConsoleFrame(JSON.stringify(r.frame)), r);
      if (r.frame.type === "snapshot") {
        const s = meshSnapshotSchema.safeParse(r.frame.snapshot);
        assert.ok(s.success, s.error?.message);
        assert.deepEqual(meshSnapshotSchema.parse(JSON.parse(JSON.stringify(s.data))), s.data);
      }
    }),
    { numRuns: SNAPSHOT_RUNS },
  );
});

test("fuzz: a snapshot with one field broken is rejected with the field's path, never thrown on", () => {
  const broken = fc.tuple(snapshot, fc.nat(), fc.jsonValue({ maxDepth: 2 })).map(([snap, pick, junk]) => {
    const s = structuredClone(snap) as Record<string, unknown>;
    const keys = Object.keys(s);
    s[keys[pick % keys.length]] = junk;
    return s;
  });
  fc.assert(
    fc.property(broken, (s) => {
      const r = meshSnapshotSchema.safeParse(s);
      if (!r.success) assert.ok(r.error.issues.length > 0);
    }),
    { numRuns: SNAPSHOT_RUNS },
  );
});

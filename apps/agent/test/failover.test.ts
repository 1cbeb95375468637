/** The console failover state machine (control/failover.ts) and the `--console` list it is fed from (args.ts). */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseAgentArgs, UsageError } from "../src/args.ts";
import { ConsoleFailover } from "../src/control/failover.ts";

const A = "ws://127.0.0.1:1/ws/agents";
const B = "ws://127.0.0.1:2/ws/agents";
const C = "ws://127.0.0.1:3/ws/agents";

test("one console: capped exponential backoff with full jitter, reset once the console answers", () => {
  const max = new ConsoleFailover([A], { baseMs: 250, capMs: 10_000, random: () => 0.999999 });
  const seq = Array.from({ length: 8 }, () => max.failed());
  assert.deepEqual(
    seq.map((d) => d.delayMs),
    [249, 499, 999, 1999, 3999, 7999, 9999, 9999],
  );
  assert.ok(seq.every((d) => d.url === A));
  assert.equal(max.attempts, 8);
  max.established();
  assert.equal(max.attempts, 0);
  assert.equal(max.failed().delayMs, 249, "an answered connection starts the backoff over");
  assert.equal(new ConsoleFailover([A], { baseMs: 250, capMs: 10_000, random: () => 0 }).failed().delayMs, 0);
});

test("several consoles: a failed or dropped connection moves to the next, round robin; backoff grows per pass over the list", () => {
  const f = new ConsoleFailover([A, B, C], { baseMs: 100, capMs: 1_000, random: () => 0.999999 });
  assert.equal(f.current, A);
  const dials = Array.from({ length: 9 }, () => f.failed());
  assert.deepEqual(
    dials.map((d) => d.url),
    [B, C, A, B, C, A, B, C, A],
  );
  // Every console of a pass is tried at the same ceiling: a dead replica costs at most one short wait.
  assert.deepEqual(
    dials.map((d) => d.delayMs),
    [99, 99, 99, 199, 199, 199, 399, 399, 399],
  );
});

test("a replica's agents that all lose it at once spread their reconnects over the base window (full jitter)", () => {
  const delays: number[] = [];
  for (let i = 0; i < 1_000; i++) {
    const f = new ConsoleFailover([A, B], { baseMs: 250, capMs: 10_000 });
    f.established();
    const next = f.failed();
    assert.equal(next.url, B, "the drop sends each agent to the other replica");
    delays.push(next.delayMs);
  }
  assert.ok(
    delays.every((d) => d >= 0 && d < 250),
    "first reconnect within [0, base)",
  );
  // Spread, not a burst: each 50 ms slice of the window gets a fair share (expected 200 of 1,000).
  const slices = [0, 0, 0, 0, 0];
  for (const d of delays) slices[Math.floor(d / 50)]++;
  assert.ok(
    slices.every((n) => n > 120 && n < 280),
    `reconnects spread over the window: ${slices}`,
  );
});

test("failovers count connections established on another console than the one before", () => {
  const f = new ConsoleFailover([A, B], { baseMs: 250, capMs: 10_000, random: () => 0 });
  f.established();
  assert.equal(f.failovers, 0, "the first connection is no failover");
  f.failed(); // A dropped → B
  f.failed(); // B refused → A
  f.established(); // back on A: no failover
  assert.equal(f.failovers, 0);
  f.failed(); // → B
  f.established();
  assert.equal(f.current, B);
  assert.equal(f.failovers, 1);
  assert.throws(() => new ConsoleFailover([]), /at least one console/);
});

test("--console repeated or comma-separated, TRELLIS_CONSOLE comma-separated: one ordered list without duplicates", () => {
  const base = ["--service", "shop", "--version", "v1", "--app-port", "8080", "--state-dir", mkdtempSync(join(tmpdir(), "failover-args-"))];
  assert.deepEqual(parseAgentArgs([...base, "--console", A, "--console", `${B}, ${C}`, "--console", A], {}).consoleUrls, [A, B, C]);
  assert.deepEqual(parseAgentArgs(base, { TRELLIS_CONSOLE: `${B},${A}` }).consoleUrls, [B, A]);
  assert.deepEqual(parseAgentArgs([...base, "--console", C], { TRELLIS_CONSOLE: A }).consoleUrls, [C], "the flag wins over the environment");
  assert.deepEqual(parseAgentArgs(base, {}).consoleUrls, []);
  assert.throws(
    () => parseAgentArgs([...base, "--console", `${A},http://x`], {}),
    (e: Error) => e instanceof UsageError && /ws:\/\/ or wss:\/\//.test(e.message),
  );
  assert.throws(
    () => parseAgentArgs([...base, "--console", `${A},ws://console.example:3000/ws/agents`], {}),
    (e: Error) => e instanceof UsageError && /plaintext/.test(e.message),
  );
});

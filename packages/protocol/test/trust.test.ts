/** The trust frames of CA rotation: the bundle to agents, their status back; fingerprints as node prints them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAgentFrame, parseConsoleFrame, splitPemCertificates } from "../src/index.ts";

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase()).join(":");
const block = (b64: string) => `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;

test("a trust frame carries the bundle and the issuing root", () => {
  const r = parseConsoleFrame(JSON.stringify({ type: "trust", generation: 3, bundle: block("AAAA") + block("BBBB"), issuerRoot: FP }));
  assert.equal(r.ok, true);
  const bad = parseConsoleFrame(JSON.stringify({ type: "trust", generation: 3, bundle: block("AAAA"), issuerRoot: "ab:cd" }));
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /^issuerRoot: /);
});

test("a trust-status frame names roots by fingerprint; no certificate is null", () => {
  assert.equal(parseAgentFrame(JSON.stringify({ type: "trust-status", generation: 1, roots: [FP], certificateRoot: null })).ok, true);
  const bad = parseAgentFrame(JSON.stringify({ type: "trust-status", generation: -1, roots: [], certificateRoot: FP }));
  assert.equal(bad.ok, false);
});

test("a PEM bundle splits into its certificates, other blocks ignored", () => {
  const key = "-----BEGIN PRIVATE KEY-----\nKKKK\n-----END PRIVATE KEY-----\n";
  assert.deepEqual(splitPemCertificates(`${block("AAAA")}junk\n${key}${block("BBBB")}`), [block("AAAA"), block("BBBB")]);
  assert.deepEqual(splitPemCertificates(""), []);
});

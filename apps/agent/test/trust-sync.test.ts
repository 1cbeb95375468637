/** `trust` frames on the agent: the bundle goes to the identity, a certificate from another root is renewed at once. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentFrame, TrustFrame } from "@trellis/protocol";
import { createLogger } from "../src/log.ts";
import type { Identity } from "../src/security/identity.ts";
import { TrustSync } from "../src/security/trust-sync.ts";

const OLD = `${"AA:".repeat(31)}AA`;
const NEW = `${"BB:".repeat(31)}BB`;

/** An identity holding a certificate from `certRoot`; a changed bundle fires its listeners, as the real one does. */
function fakeIdentity(certRoot: string) {
  const listeners: (() => void)[] = [];
  const state = { bundle: "old-bundle", roots: [OLD], certRoot, requests: [] as string[], requesting: false };
  const identity = {
    current: {},
    get requesting() {
      return state.requesting;
    },
    onChange: (fn: () => void) => listeners.push(fn),
    setTrust(bundle: string) {
      if (bundle === state.bundle) return false;
      state.bundle = bundle;
      state.roots = bundle === "both" ? [OLD, NEW] : [NEW];
      for (const fn of listeners) fn();
      return true;
    },
    trustStatus: () => ({ roots: state.roots, certificateRoot: state.certRoot }),
    async requestCertificate(reason: string) {
      state.requests.push(reason);
      state.requesting = true;
    },
  };
  return { identity: identity as unknown as Identity, state };
}

const frame = (generation: number, bundle: string, issuerRoot: string): TrustFrame => ({ type: "trust", generation, bundle, issuerRoot });

test("a new bundle is installed and reported; no renewal while the issuer is the certificate's root", () => {
  const { identity, state } = fakeIdentity(OLD);
  const sent: AgentFrame[] = [];
  const sync = new TrustSync(identity, (f) => sent.push(f) > 0, createLogger({}, "error"));
  sync.apply(frame(2, "both", OLD));
  assert.deepEqual(state.requests, []);
  assert.deepEqual(sent, [{ type: "trust-status", generation: 2, roots: [OLD, NEW], certificateRoot: OLD }]);
  // The same bundle again (a reconnect): reported again, nothing else.
  sync.apply(frame(2, "both", OLD));
  assert.equal(sent.length, 2);
});

test("an issuer other than the certificate's root asks for a certificate once", () => {
  const { identity, state } = fakeIdentity(OLD);
  const sent: AgentFrame[] = [];
  const sync = new TrustSync(identity, (f) => sent.push(f) > 0, createLogger({}, "error"));
  sync.apply(frame(3, "both", NEW));
  assert.deepEqual(state.requests, ["issuer rotated"]);
  sync.apply(frame(3, "both", NEW)); // a CSR is out: not asked again
  assert.deepEqual(state.requests, ["issuer rotated"]);
  // The new certificate arrives (the identity fires its listeners): reported, no further request.
  state.requesting = false;
  state.certRoot = NEW;
  sync.apply(frame(4, "new-only", NEW));
  assert.deepEqual(state.requests, ["issuer rotated"]);
  assert.deepEqual(sent.at(-1), { type: "trust-status", generation: 4, roots: [NEW], certificateRoot: NEW });
});

test("a certificate that still does not match is asked for again only after a gap (fake clock)", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  const { identity, state } = fakeIdentity(OLD);
  const sync = new TrustSync(identity, () => true, createLogger({}, "error"));
  sync.apply(frame(3, "both", NEW));
  assert.equal(state.requests.length, 1);
  // The answer is again from the old root (a console that keeps issuing from it): no second request at once…
  state.requesting = false;
  sync.apply(frame(3, "both", NEW));
  assert.equal(state.requests.length, 1);
  t.mock.timers.tick(4_999);
  assert.equal(state.requests.length, 1);
  // …but after the gap.
  t.mock.timers.tick(1);
  assert.equal(state.requests.length, 2);
});

/** The CA rotation state machine on a fake clock: phases, what each waits for, and the refusals. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type AgentTrust, advance, bundleOf, issuerOf, start, type TrustState, waitingFor } from "../server/security/rotation.ts";
import { rotationView } from "../server/security/rotation-view.ts";

const OLD = { id: "ca", root: "OLD" };
const NEW = { id: "root-1", root: "NEW" };
const T0 = 1_700_000_000_000;

/** A fake clock: each call moves time on by a second. */
function clock() {
  let t = T0;
  return () => (t += 1_000);
}

const idle: TrustState = { generation: 1, active: OLD, rotation: null };

function agent(instanceId: string, generation: number, roots: string[], certificateRoot: string | null): AgentTrust {
  return { instanceId, service: instanceId.split("-")[0], generation, roots, certificateRoot };
}

function ok(r: ReturnType<typeof start>): TrustState {
  assert.ok(r.ok, r.ok ? "" : r.message);
  return r.state;
}

describe("CA rotation state machine", () => {
  test("three phases, each waiting for every agent, then the new root alone", () => {
    const now = clock();
    const s1 = ok(start(idle, NEW, "admin", now()));
    assert.equal(s1.rotation?.phase, "add-root");
    assert.deepEqual(bundleOf(s1), [OLD, NEW]);
    assert.equal(issuerOf(s1), OLD);
    assert.equal(s1.generation, 2);

    const agentsAtOld = [agent("web-1", 1, ["OLD"], "OLD"), agent("catalog-1", 1, ["OLD"], "OLD")];
    const refused = advance(s1, agentsAtOld, now());
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.code, "not-ready");
    assert.match(!refused.ok ? refused.message : "", /web-1, catalog-1/);

    // One agent has the bundle: still waiting for the other.
    const half = [agent("web-1", 2, ["OLD", "NEW"], "OLD"), agent("catalog-1", 1, ["OLD"], "OLD")];
    assert.deepEqual(
      waitingFor(s1, half).map((a) => a.instanceId),
      ["catalog-1"],
    );
    const both = [agent("web-1", 2, ["NEW", "OLD"], "OLD"), agent("catalog-1", 2, ["OLD", "NEW"], "OLD")];
    const s2 = ok(advance(s1, both, now()));
    assert.equal(s2.rotation?.phase, "reissue");
    assert.equal(issuerOf(s2), NEW);
    assert.deepEqual(bundleOf(s2), [OLD, NEW]);
    assert.equal(s2.generation, 3);
    assert.ok((s2.rotation?.phaseSince ?? 0) > (s1.rotation?.phaseSince ?? 0));

    // Reissue waits for certificates from the new root (and the new generation's bundle).
    const acked = [agent("web-1", 3, ["OLD", "NEW"], "OLD"), agent("catalog-1", 3, ["OLD", "NEW"], "NEW")];
    assert.deepEqual(
      waitingFor(s2, acked).map((a) => a.instanceId),
      ["web-1"],
    );
    const renewed = [agent("web-1", 3, ["OLD", "NEW"], "NEW"), agent("catalog-1", 3, ["OLD", "NEW"], "NEW")];
    const s3 = ok(advance(s2, renewed, now()));
    assert.equal(s3.rotation?.phase, "remove-root");
    assert.deepEqual(bundleOf(s3), [NEW]);

    // The old root must be gone from every agent.
    assert.equal(
      advance(
        s3,
        renewed.map((a) => ({ ...a, generation: 4 })),
        now(),
      ).ok,
      false,
    );
    const pruned = [agent("web-1", 4, ["NEW"], "NEW"), agent("catalog-1", 4, ["NEW"], "NEW")];
    const done = ok(advance(s3, pruned, now()));
    assert.deepEqual(done, { generation: 4, active: NEW, rotation: null });
    assert.deepEqual(waitingFor(done, pruned), []);
  });

  test("refusals: a second start, the same root, advance without a rotation", () => {
    const s1 = ok(start(idle, NEW, "admin", T0));
    const again = start(s1, { id: "root-2", root: "OTHER" }, "admin", T0);
    assert.equal(!again.ok && again.code, "busy");
    const same = start(idle, { id: "copy", root: "OLD" }, "admin", T0);
    assert.equal(!same.ok && same.code, "same-root");
    const none = advance(idle, [], T0);
    assert.equal(!none.ok && none.code, "idle");
  });

  test("no agents connected: every phase is complete at once", () => {
    const now = clock();
    let s = ok(start(idle, NEW, "admin", now()));
    for (const phase of ["reissue", "remove-root"]) {
      s = ok(advance(s, [], now()));
      assert.equal(s.rotation?.phase, phase);
    }
    assert.equal(ok(advance(s, [], now())).rotation, null);
  });

  test("the view: per-agent progress and readiness, times from the clock", () => {
    const s1 = ok(start(idle, NEW, "admin", T0));
    const v = rotationView(s1, [agent("web-1", 2, ["OLD", "NEW"], "OLD"), agent("api-1", 1, ["OLD"], "OLD")]);
    assert.equal(v.phase, "add-root");
    assert.equal(v.startedAt, new Date(T0).toISOString());
    assert.equal(v.ready, false);
    assert.deepEqual(
      v.agents.map((a) => [a.instanceId, a.bundleAcked, a.certificateFromIssuer]),
      [
        ["api-1", false, true],
        ["web-1", true, true],
      ],
    );
    assert.equal(rotationView(idle, []).ready, false);
  });
});

/**
 * The CA rotation state machine (pure: no I/O, the clock is an argument). The mesh trusts a bundle of roots and
 * issues under one of them; a rotation moves both from the active authority to the next in three phases, each done
 * when every connected agent reports it (`trust-status`):
 *
 *   idle ─start→ add-root    bundle [active, next], issuer active   done: every agent trusts exactly the bundle
 *            ─advance→ reissue    bundle [active, next], issuer next     done: … and holds a certificate from next
 *            ─advance→ remove-root bundle [next], issuer next            done: … (the old root gone from every agent)
 *            ─advance→ idle        active := next
 *
 * Each change of bundle or issuer bumps `generation`; an agent's report counts only for the generation it names.
 */
export type RotationPhase = "add-root" | "reissue" | "remove-root";

export interface Authority {
  /** Directory name under `<data>/ca` (see authorities.ts). */
  id: string;
  /** SHA-256 fingerprint of its root. */
  root: string;
}

export interface TrustState {
  generation: number;
  active: Authority;
  rotation: { next: Authority; phase: RotationPhase; startedAt: number; phaseSince: number; startedBy: string } | null;
}

/** What one agent reported. */
export interface AgentTrust {
  instanceId: string;
  service: string;
  generation: number;
  roots: string[];
  certificateRoot: string | null;
}

export type RotationResult = { ok: true; state: TrustState } | { ok: false; code: "busy" | "idle" | "same-root" | "not-ready"; message: string };

export function bundleOf(s: TrustState): Authority[] {
  const r = s.rotation;
  if (r === null) return [s.active];
  return r.phase === "remove-root" ? [r.next] : [s.active, r.next];
}

export function issuerOf(s: TrustState): Authority {
  return s.rotation && s.rotation.phase !== "add-root" ? s.rotation.next : s.active;
}

/** Where one agent stands: trusts exactly the current bundle; holds a certificate from the current issuer. */
export function agentProgress(s: TrustState, a: AgentTrust): { bundle: boolean; certificate: boolean } {
  const want = bundleOf(s).map((x) => x.root);
  const bundle = a.generation === s.generation && a.roots.length === want.length && want.every((r) => a.roots.includes(r));
  return { bundle, certificate: a.certificateRoot === issuerOf(s).root };
}

/** Agents still holding the phase back (all of them must trust the bundle; from reissue on, hold a new certificate). */
export function waitingFor(s: TrustState, agents: AgentTrust[]): AgentTrust[] {
  const needCert = s.rotation !== null && s.rotation.phase !== "add-root";
  return agents.filter((a) => {
    const p = agentProgress(s, a);
    return !p.bundle || (needCert && !p.certificate);
  });
}

export function start(s: TrustState, next: Authority, actor: string, now: number): RotationResult {
  if (s.rotation) return { ok: false, code: "busy", message: `a rotation is already in phase ${s.rotation.phase}` };
  if (next.root === s.active.root) return { ok: false, code: "same-root", message: "the new authority has the active root" };
  return {
    ok: true,
    state: {
      generation: s.generation + 1,
      active: s.active,
      rotation: { next, phase: "add-root", startedAt: now, phaseSince: now, startedBy: actor },
    },
  };
}

export function advance(s: TrustState, agents: AgentTrust[], now: number): RotationResult {
  const r = s.rotation;
  if (r === null) return { ok: false, code: "idle", message: "no rotation in progress" };
  const waiting = waitingFor(s, agents);
  if (waiting.length > 0)
    return { ok: false, code: "not-ready", message: `phase ${r.phase} waits for ${waiting.map((a) => a.instanceId).join(", ")}` };
  if (r.phase === "remove-root") return { ok: true, state: { generation: s.generation, active: r.next, rotation: null } };
  const phase: RotationPhase = r.phase === "add-root" ? "reissue" : "remove-root";
  return { ok: true, state: { generation: s.generation + 1, active: s.active, rotation: { ...r, phase, phaseSince: now } } };
}

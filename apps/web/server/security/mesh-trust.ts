/**
 * The mesh's trust as the console runs it: the authorities of the current state loaded, the one that issues now, the
 * bundle agents must trust (a `trust` frame), and the rotation's steps — each applied through the pure state machine
 * (rotation.ts), persisted (trust-store.ts), then announced to `onChange` listeners (the control plane pushes).
 */
import type { TrustFrame } from "@trellis/protocol";
import { conflict, notReady } from "../errors.ts";
import type { Logger } from "../log.ts";
import { CertificateAuthority } from "./ca.ts";
import { createRoot } from "./ca-root.ts";
import { importPluginCa } from "./plugin-ca.ts";
import { type AgentTrust, advance, bundleOf, issuerOf, type RotationResult, start, type TrustState } from "./rotation.ts";
import { FIRST_AUTHORITY, TrustStore } from "./trust-store.ts";

export class MeshTrust {
  private readonly loaded = new Map<string, CertificateAuthority>();
  private readonly listeners: (() => void)[] = [];

  private constructor(
    private readonly store: TrustStore,
    private readonly trustDomain: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
    public state: TrustState,
  ) {}

  static async open(dataDir: string, trustDomain: string, ttlSeconds: number, log: Logger): Promise<{ trust: MeshTrust; created: boolean }> {
    const { ca, created } = await CertificateAuthority.open(dataDir, trustDomain, ttlSeconds);
    const store = new TrustStore(dataDir);
    const state = store.read() ?? { generation: 1, active: { id: FIRST_AUTHORITY, root: ca.rootFingerprint }, rotation: null };
    const trust = new MeshTrust(store, trustDomain, ttlSeconds, log, state);
    trust.loaded.set(FIRST_AUTHORITY, ca);
    for (const a of bundleOf(state)) await trust.authority(a.id);
    return { trust, created };
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private async authority(id: string): Promise<CertificateAuthority> {
    let ca = this.loaded.get(id);
    if (!ca) {
      ca = await CertificateAuthority.load(this.store.authorityDir(id), this.trustDomain, this.ttlSeconds);
      this.loaded.set(id, ca);
    }
    return ca;
  }

  /** The authority that signs certificates now. */
  issuer(): CertificateAuthority {
    return this.loaded.get(issuerOf(this.state).id)!;
  }

  /** Every root the mesh trusts now, PEM. */
  bundle(): string {
    return bundleOf(this.state)
      .map((a) => this.loaded.get(a.id)!.rootPem)
      .join("");
  }

  frame(): TrustFrame {
    return { type: "trust", generation: this.state.generation, bundle: this.bundle(), issuerRoot: issuerOf(this.state).root };
  }

  /** Phase 1: a new root generated here, or the operator's intermediate CA from `pluginDir`, joins the bundle. */
  async start(actor: string, pluginDir: string | null, now = Date.now()): Promise<TrustState> {
    if (this.state.rotation) throw conflict(`a rotation is already in phase ${this.state.rotation.phase}`);
    const id = this.store.newAuthorityId(pluginDir ? "plugin" : "root", now);
    const dir = this.store.authorityDir(id);
    if (pluginDir) importPluginCa(pluginDir, dir);
    else await createRoot(dir, this.trustDomain, now);
    const ca = await this.authority(id);
    return this.apply(start(this.state, { id, root: ca.rootFingerprint }, actor, now), actor);
  }

  /** The next phase, once every connected agent has reached this one. */
  advance(agents: AgentTrust[], actor: string, now = Date.now()): TrustState {
    return this.apply(advance(this.state, agents, now), actor);
  }

  private apply(result: RotationResult, actor: string): TrustState {
    if (!result.ok) throw result.code === "not-ready" ? notReady(result.message) : conflict(result.message);
    const before = this.state;
    this.store.write(result.state);
    this.state = result.state;
    this.log.info("CA rotation", {
      actor,
      phase: result.state.rotation?.phase ?? "done",
      generation: result.state.generation,
      issuer: issuerOf(result.state).id,
      bundle: bundleOf(result.state).map((a) => a.id),
    });
    if (result.state.rotation === null && before.rotation) this.loaded.delete(before.active.id);
    for (const fn of this.listeners) fn();
    return result.state;
  }
}

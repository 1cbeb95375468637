/** What the Settings page shows of the mesh's trust: the phase, the authorities, and each agent's progress. Pure. */
import { type AgentTrust, agentProgress, bundleOf, issuerOf, type TrustState, waitingFor } from "./rotation.ts";

export interface RotationView {
  generation: number;
  phase: "idle" | "add-root" | "reissue" | "remove-root";
  active: { id: string; root: string };
  next: { id: string; root: string } | null;
  bundle: string[];
  issuer: string;
  startedAt: string | null;
  startedBy: string | null;
  phaseSince: string | null;
  /** Every connected agent has reached the phase: `advance` will be accepted. */
  ready: boolean;
  agents: { instanceId: string; service: string; bundleAcked: boolean; certificateFromIssuer: boolean }[];
}

export function rotationView(s: TrustState, agents: AgentTrust[]): RotationView {
  const r = s.rotation;
  const at = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    generation: s.generation,
    phase: r?.phase ?? "idle",
    active: s.active,
    next: r?.next ?? null,
    bundle: bundleOf(s).map((a) => a.id),
    issuer: issuerOf(s).id,
    startedAt: at(r?.startedAt),
    startedBy: r?.startedBy ?? null,
    phaseSince: at(r?.phaseSince),
    ready: r !== null && waitingFor(s, agents).length === 0,
    agents: agents
      .map((a) => {
        const p = agentProgress(s, a);
        return { instanceId: a.instanceId, service: a.service, bundleAcked: p.bundle, certificateFromIssuer: p.certificate };
      })
      .sort((x, y) => x.service.localeCompare(y.service) || x.instanceId.localeCompare(y.instanceId)),
  };
}

/**
 * Which connected agents a push round serves as endpoints. Without a gate: every connected agent (and those kept
 * through the restart grace). On Kubernetes the gate is EndpointSlice discovery: an agent is served only while its pod
 * is a ready endpoint of its Service (readiness, termination and rollouts as Kubernetes sees them), and a change in
 * the slices schedules a round.
 */
import type { EndpointRow } from "../repositories/index.ts";

export interface EndpointGate {
  /** Whether the agent registered as `instanceId` may be served now. */
  admits(instanceId: string): boolean;
  /** Called when what admits() answers may have changed. */
  onChange(listener: () => void): void;
  stop(): Promise<void>;
}

export function gateEndpoints(rows: EndpointRow[], gate: EndpointGate | undefined): EndpointRow[] {
  return gate ? rows.filter((r) => gate.admits(r.instanceId)) : rows;
}

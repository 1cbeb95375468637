/**
 * TRELLIS_DISCOVERY=kubernetes: the control plane's endpoint gate from EndpointSlices (packages/k8s-discovery), with
 * the API server found as kubectl finds it (in a pod: its ServiceAccount). The console waits for the first list so
 * its first push round already knows which pods are ready.
 */
import { type KubernetesDiscovery, kubeConfigFromEnvironment, startKubernetesDiscovery } from "@trellis/k8s-discovery";
import type { EndpointGate } from "../control-plane/endpoint-gate.ts";
import type { Logger } from "../log.ts";

const FIRST_SYNC_MS = 30_000;

export async function startKubernetesGate(log: Logger, namespace?: string): Promise<EndpointGate> {
  const listeners: (() => void)[] = [];
  let discovery: KubernetesDiscovery | null = null;
  discovery = startKubernetesDiscovery(kubeConfigFromEnvironment(), {
    namespace,
    onChange: (services) => {
      log.info("kubernetes endpoints changed", { services });
      for (const l of listeners) l();
    },
    onError: (err) => log.warn("kubernetes discovery error (retrying)", { error: (err as Error).message ?? String(err) }),
  });
  // A late first sync changes every answer: one round then.
  void discovery.synced.then(() => {
    for (const l of listeners) l();
  });
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), FIRST_SYNC_MS).unref());
  if ((await Promise.race([discovery.synced.then(() => "synced" as const), timeout])) === "timeout")
    log.warn("kubernetes discovery not synced yet: serving no endpoint until it is", { waitedMs: FIRST_SYNC_MS });
  else log.info("kubernetes discovery synced", { services: discovery.services().length });
  const d = discovery;
  return {
    admits: (instanceId) => d.serves(instanceId),
    onChange: (l) => listeners.push(l),
    stop: () => d.stop(),
  };
}

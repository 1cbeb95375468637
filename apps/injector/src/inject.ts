/**
 * inject(pod, config) → JSONPatch operations: the pure heart of the webhook. Idempotent (a pod that already has the
 * agent gets no operation, so a re-invocation or a replayed review changes nothing), and it never half-injects: a pod
 * it cannot describe, or must not touch, gets no operation and a reason.
 */
import type { IPod } from "kubernetes-models/v1";
import { AGENT_CONTAINER, CAPTURE_CONTAINER, INJECT_ANNOTATION, MESH_SERVICE_LABEL, MESH_VERSION_LABEL, STATUS_ANNOTATION } from "./annotations.ts";
import type { InjectorConfig } from "./config.ts";
import { agentSidecar, agentVolumes, captureInit } from "./containers.ts";
import { append, type PatchOp, prepend, setKeys } from "./json-patch.ts";
import { workloadOf } from "./workload.ts";

export interface InjectResult {
  patch: PatchOp[];
  /** Why the pod was left alone (null when injected). */
  skipped: string | null;
  /** Shown by kubectl to whoever created the pod: only for pods that asked to be meshed and could not be. */
  warnings: string[];
  service?: string;
}

const leave = (skipped: string, warn = false): InjectResult => ({
  patch: [],
  skipped,
  warnings: warn ? [`trellis: pod not injected: ${skipped}`] : [],
});

/** Prometheus' pod-discovery convention, pointing at the agent's /metrics, unless the pod already says what to scrape. */
function scrapeAnnotations(existing: Record<string, string> | undefined, cfg: InjectorConfig): Record<string, string> {
  if (existing?.["prometheus.io/scrape"] !== undefined) return {};
  return { "prometheus.io/scrape": "true", "prometheus.io/port": String(cfg.ports.admin), "prometheus.io/path": "/metrics" };
}

/** Kubernetes' default terminationGracePeriodSeconds. */
const DEFAULT_GRACE_SECONDS = 30;

export function inject(pod: IPod, cfg: InjectorConfig): InjectResult {
  const meta = pod.metadata;
  const spec = pod.spec;
  if (meta?.annotations?.[INJECT_ANNOTATION] === "disabled") return leave(`annotated ${INJECT_ANNOTATION}: disabled`);
  if (!spec) return leave("pod has no spec", true);
  const names = [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name);
  if (names.includes(AGENT_CONTAINER)) return leave("already injected");
  if (names.includes(CAPTURE_CONTAINER)) return leave(`a container is already named ${CAPTURE_CONTAINER}`, true);
  // In the node's network namespace the capture rules would redirect the node's own traffic.
  if (spec.hostNetwork) return leave("hostNetwork pods share the node's network namespace", true);

  const p = cfg.ports;
  const found = workloadOf(pod, [p.inbound, p.outbound, p.admin]);
  if (!found.ok) return leave(found.reason, true);

  const ops: PatchOp[] = [];
  if (meta === undefined) ops.push({ op: "add", path: "/metadata", value: {} });
  setKeys(ops, "/metadata/annotations", meta?.annotations, { [STATUS_ANNOTATION]: "injected", ...scrapeAnnotations(meta?.annotations, cfg) });
  // Discovery watches only pods with these labels (meshed pods) and reads their version from them.
  const { service, version } = found.workload;
  setKeys(ops, "/metadata/labels", meta?.labels, { [MESH_SERVICE_LABEL]: service, [MESH_VERSION_LABEL]: version });
  // Capture first (the rules are in place before anything in the pod opens a connection), then the agent; the pod's
  // own init containers follow and are already meshed.
  prepend(ops, "/spec/initContainers", spec.initContainers, [captureInit(cfg), agentSidecar(found.workload, cfg)]);
  append(ops, "/spec/volumes", spec.volumes, agentVolumes(cfg));
  const floor = cfg.drainSeconds + 2;
  const grace = spec.terminationGracePeriodSeconds;
  if (grace === undefined ? floor > DEFAULT_GRACE_SECONDS : grace < floor)
    ops.push({ op: "add", path: "/spec/terminationGracePeriodSeconds", value: floor });
  return { patch: ops, skipped: null, warnings: [], service: found.workload.service };
}

/**
 * Who a pod is in the mesh: its service and version from the labels Kubernetes users already set
 * (`app.kubernetes.io/name` or `app`, `app.kubernetes.io/version` or `version`), and the port its app listens on.
 * A pod the agent cannot describe is not injected (with a warning the API server shows to kubectl), rather than
 * injected with an agent that would crash-loop on a bad flag.
 */
import { serviceNameSchema, UNKNOWN_VERSION, versionSchema } from "@trellis/protocol";
import type { IPod } from "kubernetes-models/v1";
import { APP_PORT_ANNOTATION, SERVICE_LABELS, VERSION_LABELS } from "./annotations.ts";

export interface Workload {
  service: string;
  version: string;
  appPort: number;
}

export type WorkloadResult = { ok: true; workload: Workload } | { ok: false; reason: string };

function firstLabel(labels: Record<string, string>, keys: readonly string[]): string | undefined {
  for (const k of keys) if (labels[k]) return labels[k];
  return undefined;
}

/** The app's port: the annotation, else the first TCP containerPort of the first app container that declares one. */
function appPortOf(pod: IPod, reserved: readonly number[]): number | string {
  const annotated = pod.metadata?.annotations?.[APP_PORT_ANNOTATION];
  if (annotated !== undefined) {
    const n = Number(annotated);
    return Number.isInteger(n) && n > 0 && n < 65536 ? n : `annotation ${APP_PORT_ANNOTATION}="${annotated}" is not a port number`;
  }
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if ((p.protocol ?? "TCP") === "TCP" && !reserved.includes(p.containerPort)) return p.containerPort;
  return `no TCP containerPort declared (set the ${APP_PORT_ANNOTATION} annotation)`;
}

export function workloadOf(pod: IPod, reservedPorts: readonly number[]): WorkloadResult {
  const labels = pod.metadata?.labels ?? {};
  const service = firstLabel(labels, SERVICE_LABELS);
  if (service === undefined) return { ok: false, reason: `no service label (${SERVICE_LABELS.join(" or ")})` };
  if (!serviceNameSchema.safeParse(service).success) return { ok: false, reason: `service label "${service}" is not a DNS label` };
  const version = firstLabel(labels, VERSION_LABELS) ?? UNKNOWN_VERSION;
  if (!versionSchema.safeParse(version).success) return { ok: false, reason: `version label "${version}" is not a valid version` };
  const appPort = appPortOf(pod, reservedPorts);
  if (typeof appPort === "string") return { ok: false, reason: appPort };
  if (reservedPorts.includes(appPort)) return { ok: false, reason: `app port ${appPort} collides with the agent's ports` };
  return { ok: true, workload: { service, version, appPort } };
}

/**
 * One EndpointSlice (discovery.k8s.io/v1) → the endpoints it contributes to a mesh service. Pure.
 * - The service is the `kubernetes.io/service-name` label (set by the EndpointSlice controller; a slice without it is
 *   not a Service's and is ignored).
 * - The port is found by name, in the order given (the Service's port names are stable; numbers are not).
 * - Only ready endpoints serve: `conditions.ready` false (not ready, or terminating) is left out; an absent value means
 *   ready, as the API documents.
 * - Each endpoint's instance id is `<pod>.<namespace>`, the id the injected agent registers with (apps/injector), so
 *   the console can join an endpoint with its agent.
 */
import type { V1EndpointSlice } from "@kubernetes/client-node";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export interface PodRef {
  namespace: string;
  name: string;
}

export interface SliceEndpoint {
  address: string;
  instanceId: string;
  pod: PodRef | null;
}

export interface SliceEndpoints {
  /** `<namespace>/<slice name>`: the key updates and deletions are matched by. */
  key: string;
  service: string;
  namespace: string;
  endpoints: SliceEndpoint[];
}

export const sliceKey = (s: V1EndpointSlice): string => `${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}`;

function hostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function readSlice(slice: V1EndpointSlice, portNames: readonly string[]): SliceEndpoints | null {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service) return null;
  const namespace = slice.metadata?.namespace ?? "";
  const out: SliceEndpoints = { key: sliceKey(slice), service, namespace, endpoints: [] };
  // FQDN slices name hosts, not pods: nothing an agent can dial as host:port with an identity behind it.
  if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") return out;
  let port: number | undefined;
  for (const name of portNames) {
    port = slice.ports?.find((p) => p.name === name && (p.protocol ?? "TCP") === "TCP")?.port;
    if (port !== undefined) break;
  }
  if (port === undefined) return out;
  for (const ep of slice.endpoints ?? []) {
    if (ep.conditions?.ready === false) continue;
    const ip = ep.addresses[0];
    if (!ip) continue;
    const ref = ep.targetRef;
    const pod = ref?.kind === "Pod" && ref.name ? { namespace: ref.namespace ?? namespace, name: ref.name } : null;
    out.endpoints.push({ address: hostPort(ip, port), instanceId: pod ? `${pod.name}.${pod.namespace}` : ip, pod });
  }
  return out;
}

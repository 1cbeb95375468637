/**
 * The cluster's mesh endpoints as the informers see them: slices by key, pod versions by pod. A service's endpoints
 * are the union of its slices (a Service has several once it passes 100 endpoints), deduplicated by instance, in the
 * protocol's `Endpoint` shape.
 */
import { type Endpoint, UNKNOWN_VERSION } from "@trellis/protocol";
import type { PodRef, SliceEndpoints } from "./slices.ts";

const podKey = (p: PodRef) => `${p.namespace}/${p.name}`;

export class EndpointIndex {
  private readonly slices = new Map<string, SliceEndpoints>();
  private readonly versions = new Map<string, string>();

  /** Stores a slice; returns the services whose endpoints may have changed. */
  putSlice(s: SliceEndpoints): string[] {
    const before = this.slices.get(s.key);
    this.slices.set(s.key, s);
    return before && before.service !== s.service ? [before.service, s.service] : [s.service];
  }

  removeSlice(key: string): string[] {
    const before = this.slices.get(key);
    this.slices.delete(key);
    return before ? [before.service] : [];
  }

  /** Records a pod's version (undefined: the pod is gone); returns the services that list it. */
  putPodVersion(pod: PodRef, version: string | undefined): string[] {
    const key = podKey(pod);
    if (this.versions.get(key) === version) return [];
    if (version === undefined) this.versions.delete(key);
    else this.versions.set(key, version);
    const affected = new Set<string>();
    for (const s of this.slices.values()) if (s.endpoints.some((e) => e.pod && podKey(e.pod) === key)) affected.add(s.service);
    return [...affected];
  }

  /** Whether `instanceId` is a ready endpoint of some service (`meshedOnly` as for endpoints()). */
  serves(instanceId: string, meshedOnly = false): boolean {
    for (const s of this.slices.values())
      for (const e of s.endpoints)
        if (e.instanceId === instanceId && (!meshedOnly || (e.pod !== null && this.versions.has(podKey(e.pod))))) return true;
    return false;
  }

  services(): string[] {
    return [...new Set([...this.slices.values()].map((s) => s.service))].sort();
  }

  /** `meshedOnly`: leave out endpoints whose pod has no recorded version (a pod the injector did not mesh). */
  endpoints(service: string, meshedOnly = false): Endpoint[] {
    const byInstance = new Map<string, Endpoint>();
    for (const s of this.slices.values()) {
      if (s.service !== service) continue;
      for (const e of s.endpoints) {
        const known = e.pod ? this.versions.get(podKey(e.pod)) : undefined;
        if (meshedOnly && known === undefined) continue;
        const version = known ?? UNKNOWN_VERSION;
        byInstance.set(e.instanceId, { address: e.address, version, instanceId: e.instanceId });
      }
    }
    return [...byInstance.values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }
}

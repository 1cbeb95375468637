/**
 * Kubernetes discovery: two @kubernetes/client-node informers (list, then watch from the list's resourceVersion; a
 * relist when the API server answers 410 Gone) feed an EndpointIndex:
 * - EndpointSlices, cluster-wide or in one namespace → each service's ready endpoints;
 * - meshed Pods (those the injector labelled `trellis.io/version`) → each endpoint's version. Endpoints of pods that
 *   are not meshed are not served: there is no agent behind them to speak the mesh's protocol.
 * An informer stops on any other error; it is restarted after a delay (doubling, capped) so a restarted API server
 * or an expired token is survived.
 */
import { CoreV1Api, DiscoveryV1Api, type Informer, type KubeConfig, makeInformer, type V1EndpointSlice, type V1Pod } from "@kubernetes/client-node";
import type { Endpoint } from "@trellis/protocol";
import { EndpointIndex } from "./endpoint-index.ts";
import { readSlice, sliceKey } from "./slices.ts";

export const MESH_VERSION_LABEL = "trellis.io/version";

export interface DiscoveryOptions {
  /** Watch one namespace; all namespaces when absent (the console's ClusterRole allows both). */
  namespace?: string;
  /** Service port names to serve, in order of preference. */
  portNames?: readonly string[];
  /** Called with the services whose endpoints changed (after the first sync, once per change). */
  onChange?: (services: string[]) => void;
  onError?: (err: unknown) => void;
  restartDelayMs?: number;
}

export interface KubernetesDiscovery {
  endpoints(service: string): Endpoint[];
  services(): string[];
  /** Whether the agent registered as `instanceId` (`<pod>.<namespace>`) sits behind a ready endpoint. */
  serves(instanceId: string): boolean;
  /** Resolves once both informers have listed. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_PORT_NAMES = ["trellis-inbound", "http"] as const;

/**
 * Starts `informer` and keeps it running. start() resolves even when its LIST failed (the failure goes to the error
 * handlers), so "listed" is decided here: a start with no error on the way. Calls onListed after the first one.
 */
function supervise<T extends { metadata?: object }>(
  informer: Informer<T>,
  opts: DiscoveryOptions,
  stopped: () => boolean,
  onListed: () => void,
): void {
  const base = opts.restartDelayMs ?? 1_000;
  let delay = base;
  let failed = false;
  let listed = false;
  const run = () => {
    failed = false;
    informer.start().then(
      () => {
        if (failed || stopped()) return;
        delay = base;
        if (!listed) {
          listed = true;
          onListed();
        }
      },
      (e: unknown) => opts.onError?.(e),
    );
  };
  informer.on("error", (err: unknown) => {
    failed = true;
    opts.onError?.(err);
    if (stopped()) return;
    setTimeout(() => {
      if (!stopped()) run();
    }, delay).unref();
    delay = Math.min(delay * 2, 30_000);
  });
  run();
}

export function startKubernetesDiscovery(kc: KubeConfig, opts: DiscoveryOptions = {}): KubernetesDiscovery {
  const ports = opts.portNames ?? DEFAULT_PORT_NAMES;
  const index = new EndpointIndex();
  const ns = opts.namespace;
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const sliceBase = ns ? `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices` : "/apis/discovery.k8s.io/v1/endpointslices";
  const podBase = ns ? `/api/v1/namespaces/${ns}/pods` : "/api/v1/pods";
  const slices = makeInformer<V1EndpointSlice>(kc, sliceBase, () =>
    ns ? discovery.listNamespacedEndpointSlice({ namespace: ns }) : discovery.listEndpointSliceForAllNamespaces(),
  );
  const pods = makeInformer<V1Pod>(
    kc,
    podBase,
    () =>
      ns
        ? core.listNamespacedPod({ namespace: ns, labelSelector: MESH_VERSION_LABEL })
        : core.listPodForAllNamespaces({ labelSelector: MESH_VERSION_LABEL }),
    MESH_VERSION_LABEL,
  );

  let stopped = false;
  let listed = 0;
  let resolveSynced!: () => void;
  const synced = new Promise<void>((r) => {
    resolveSynced = r;
  });
  const changed = (services: string[]) => {
    if (listed === 2 && services.length) opts.onChange?.([...new Set(services)]);
  };
  const putSlice = (s: V1EndpointSlice) => {
    const read = readSlice(s, ports);
    changed(read ? index.putSlice(read) : index.removeSlice(sliceKey(s)));
  };
  slices.on("add", putSlice);
  slices.on("update", putSlice);
  slices.on("delete", (s) => changed(index.removeSlice(sliceKey(s))));
  const podRef = (p: V1Pod) => ({ namespace: p.metadata?.namespace ?? "", name: p.metadata?.name ?? "" });
  const putPod = (p: V1Pod) => changed(index.putPodVersion(podRef(p), p.metadata?.labels?.[MESH_VERSION_LABEL]));
  pods.on("add", putPod);
  pods.on("update", putPod);
  pods.on("delete", (p) => changed(index.putPodVersion(podRef(p), undefined)));
  const onListed = () => {
    listed += 1;
    if (listed === 2) resolveSynced();
  };
  supervise(slices, opts, () => stopped, onListed);
  supervise(pods, opts, () => stopped, onListed);
  return {
    endpoints: (service) => index.endpoints(service, true),
    services: () => index.services(),
    serves: (instanceId) => index.serves(instanceId, true),
    synced,
    async stop() {
      stopped = true;
      await Promise.all([slices.stop(), pods.stop()]);
    },
  };
}

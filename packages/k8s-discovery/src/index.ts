export { EndpointIndex } from "./endpoint-index.ts";
export { DEFAULT_PORT_NAMES, type DiscoveryOptions, type KubernetesDiscovery, MESH_VERSION_LABEL, startKubernetesDiscovery } from "./informers.ts";
export { kubeConfigFromEnvironment } from "./kubeconfig.ts";
export { type PodRef, readSlice, SERVICE_NAME_LABEL, type SliceEndpoint, type SliceEndpoints, sliceKey } from "./slices.ts";

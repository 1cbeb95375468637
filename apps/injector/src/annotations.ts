/** The labels and annotations the injector reads and writes (documented in deploy/README.md). */

/** On a namespace: `enabled` makes the webhook see its pods (the MutatingWebhookConfiguration's namespaceSelector). */
export const NAMESPACE_LABEL = "trellis.io/inject";
/** On a pod: `disabled` keeps it out of the mesh even in an injected namespace. */
export const INJECT_ANNOTATION = "trellis.io/inject";
/** On a pod: the port the app listens on, when its first declared containerPort is not it. */
export const APP_PORT_ANNOTATION = "trellis.io/app-port";
/** Written by the injector: marks an injected pod (with the agent container, this makes injection idempotent). */
export const STATUS_ANNOTATION = "trellis.io/status";
/** Written by the injector on the pod: the mesh identity it was given (packages/k8s-discovery selects pods by them). */
export const MESH_SERVICE_LABEL = "trellis.io/service";
export const MESH_VERSION_LABEL = "trellis.io/version";

/** Service name labels, most specific first (the recommended label, then the common `app`). */
export const SERVICE_LABELS = ["app.kubernetes.io/name", "app"] as const;
export const VERSION_LABELS = ["app.kubernetes.io/version", "version"] as const;

export const AGENT_CONTAINER = "trellis-agent";
export const CAPTURE_CONTAINER = "trellis-capture";
export const STATE_VOLUME = "trellis-state";
export const TOKEN_VOLUME = "trellis-join-token";

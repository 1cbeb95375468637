/**
 * The two containers and the volumes injection adds. The agent runs as a native sidecar (an init container with
 * `restartPolicy: Always`, Kubernetes ≥ 1.29): the kubelet starts it before the app and only goes on once its
 * startupProbe passes — /ready, i.e. the agent holds a config snapshot — so the app's first call already finds a
 * working mesh; on termination the kubelet stops it after the app containers, so the app's own calls while shutting
 * down still go through it, and the agent drains on SIGTERM.
 */
import type { IContainer, IVolume } from "kubernetes-models/v1";
import { AGENT_CONTAINER, CAPTURE_CONTAINER, STATE_VOLUME, TOKEN_VOLUME } from "./annotations.ts";
import type { InjectorConfig } from "./config.ts";
import type { Workload } from "./workload.ts";

const STATE_DIR = "/var/run/trellis/state";
const TOKEN_DIR = "/var/run/trellis/token";

/**
 * Kubelet HTTP probes on the agent's admin port: the agent listens for them on all addresses (`--admin-host 0.0.0.0`)
 * and the capture rules leave that port unredirected (`--admin-port` of the init step).
 */
const adminProbe = (path: string) => ({ httpGet: { path, port: "trellis-admin" } });

const fromField = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

export function agentSidecar(w: Workload, cfg: InjectorConfig): IContainer {
  const p = cfg.ports;
  return {
    name: AGENT_CONTAINER,
    image: cfg.agentImage,
    imagePullPolicy: cfg.imagePullPolicy,
    restartPolicy: "Always",
    command: ["trellis-agent"],
    // $(VAR) is expanded by the kubelet from the env below: one instance id per pod, the pod IP for other agents.
    args: [
      ...["--service", w.service, "--version", w.version, "--app-port", String(w.appPort)],
      ...["--inbound-port", String(p.inbound), "--outbound-port", String(p.outbound), "--admin-port", String(p.admin)],
      ...["--capture", "--inbound-host", "0.0.0.0", "--admin-host", "0.0.0.0", "--advertise-host", "$(POD_IP)"],
      ...["--console", cfg.consoleUrl, "--token-file", `${TOKEN_DIR}/token`],
      ...["--state-dir", STATE_DIR, "--instance-id", "$(POD_NAME).$(POD_NAMESPACE)"],
    ],
    env: [fromField("POD_NAME", "metadata.name"), fromField("POD_NAMESPACE", "metadata.namespace"), fromField("POD_IP", "status.podIP")],
    ports: [
      { name: "trellis-inbound", containerPort: p.inbound, protocol: "TCP" },
      { name: "trellis-admin", containerPort: p.admin, protocol: "TCP" },
    ],
    startupProbe: { ...adminProbe("/ready"), periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 120 },
    readinessProbe: { ...adminProbe("/ready"), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    livenessProbe: { ...adminProbe("/healthz"), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    securityContext: {
      runAsUser: cfg.proxyUid,
      runAsGroup: cfg.proxyUid,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    volumeMounts: [
      { name: STATE_VOLUME, mountPath: STATE_DIR },
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
    ],
  };
}

/** `trellis-agent init-capture` (flags as apps/agent's capture init step defines them): iptables, then exit. */
export function captureInit(cfg: InjectorConfig): IContainer {
  const p = cfg.ports;
  const args = ["init-capture", "--outbound-port", String(p.outbound), "--inbound-port", String(p.inbound)];
  args.push("--proxy-uid", String(cfg.proxyUid), "--admin-port", String(p.admin));
  if (cfg.excludeOutboundPorts.length) args.push("--exclude-outbound-ports", cfg.excludeOutboundPorts.join(","));
  if (cfg.excludeInboundPorts.length) args.push("--exclude-inbound-ports", cfg.excludeInboundPorts.join(","));
  return {
    name: CAPTURE_CONTAINER,
    image: cfg.agentImage,
    imagePullPolicy: cfg.imagePullPolicy,
    command: ["trellis-agent"],
    args,
    // Root with NET_ADMIN/NET_RAW only, in the pod's network namespace; the root filesystem stays writable because
    // iptables takes its lock file under /run.
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] },
    },
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
  };
}

export function agentVolumes(cfg: InjectorConfig): IVolume[] {
  return [
    { name: STATE_VOLUME, emptyDir: { sizeLimit: "16Mi" } },
    // A missing Secret keeps the pod in ContainerCreating with an event naming it: a clearer failure than an agent
    // the console refuses.
    { name: TOKEN_VOLUME, secret: { secretName: cfg.joinTokenSecret, items: [{ key: cfg.joinTokenKey, path: "token" }] } },
  ];
}

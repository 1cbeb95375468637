/**
 * Pods and AdmissionReviews as the API server hands them to a mutating webhook. A Deployment's pod is created by the
 * ReplicaSet controller (generateName, pod-template-hash, owner reference) and reaches webhooks after the API
 * server's defaulting and its built-in mutating plugins (ServiceAccount's token volume, DefaultTolerationSeconds,
 * Priority): the object below carries what those add, as a real review does (`creationTimestamp: null` included).
 */
import { randomUUID } from "node:crypto";
import type { K8sObject } from "./k8s-schema.ts";

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Record<string, unknown>[]; [k: string]: unknown };
}

const TOKEN_VOLUME = "kube-api-access-x7k2p";

function defaultedContainer(c: Record<string, unknown>): Record<string, unknown> {
  const image = String(c.image ?? "");
  return {
    ...c,
    ports: (c.ports as Record<string, unknown>[] | undefined)?.map((p) => ({ protocol: "TCP", ...p })),
    resources: c.resources ?? {},
    volumeMounts: [
      ...((c.volumeMounts as unknown[]) ?? []),
      { name: TOKEN_VOLUME, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
    ],
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: c.imagePullPolicy ?? (image.endsWith(":latest") || !image.includes(":") ? "Always" : "IfNotPresent"),
  };
}

/** The pod the ReplicaSet controller of `deployment` asks the API server to create, as admission sees it. */
export function podOfDeployment(deployment: K8sObject): K8sObject {
  const template = (deployment.spec as { template: PodTemplate }).template;
  const hash = "6d4b9c7f8";
  const rs = `${deployment.metadata.name}-${hash}`;
  const spec = template.spec;
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: {
      name: "",
      generateName: `${rs}-`,
      namespace: deployment.metadata.namespace,
      creationTimestamp: null,
      labels: { ...template.metadata?.labels, "pod-template-hash": hash },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: randomUUID(), controller: true, blockOwnerDeletion: true }],
    } as K8sObject["metadata"],
    spec: {
      ...spec,
      volumes: [
        ...((spec.volumes as unknown[]) ?? []),
        {
          name: TOKEN_VOLUME,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: spec.containers.map(defaultedContainer),
      restartPolicy: "Always",
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: spec.serviceAccountName ?? "default",
      serviceAccount: spec.serviceAccountName ?? "default",
      securityContext: spec.securityContext ?? {},
      schedulerName: "default-scheduler",
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: {},
  };
}

/** The AdmissionReview the API server POSTs for a pod CREATE. */
export function reviewOf(pod: K8sObject, opts: { dryRun?: boolean; operation?: string; uid?: string } = {}) {
  const gvk = { group: "", version: "v1", kind: "Pod" };
  const gvr = { group: "", version: "v1", resource: "pods" };
  return {
    kind: "AdmissionReview",
    apiVersion: "admission.k8s.io/v1",
    request: {
      uid: opts.uid ?? randomUUID(),
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      operation: opts.operation ?? "CREATE",
      userInfo: {
        username: "system:serviceaccount:kube-system:replicaset-controller",
        uid: randomUUID(),
        groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      },
      object: pod,
      oldObject: null,
      dryRun: opts.dryRun ?? false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
    },
  };
}

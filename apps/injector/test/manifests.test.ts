/**
 * Every manifest `kubectl apply -k deploy/` would apply (rendered offline by kubectl's own kustomize), the fail-closed
 * overlay and the shop example, validated against the official Kubernetes schemas (kubernetes-models, pinned).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ICertificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import type { IMutatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IClusterRole, IClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { parse } from "yaml";
import { type K8sObject, validateK8s } from "./support/k8s-schema.ts";
import { byKind, parseYaml, REPO, render } from "./support/kustomize.ts";

const base = render("deploy");

/** The rendered objects seen through their models' types (they were validated against the schemas just above). */
const as = <T>(objs: K8sObject[]) => objs as unknown as T[];

/** Files listed by a kustomization's `resources`, recursively (directories are kustomizations themselves). */
function listedFiles(dir: string): string[] {
  const k = parse(readFileSync(join(REPO, dir, "kustomization.yaml"), "utf8")) as { resources?: string[] };
  return (k.resources ?? []).flatMap((r) => (r.endsWith(".yaml") ? [join(dir, r)] : listedFiles(join(dir, r))));
}

describe("deploy/ manifests", () => {
  for (const dir of ["deploy", "deploy/overlays/fail-closed", "deploy/examples/shop"]) {
    test(`${dir}: every rendered object is valid against its official schema`, () => {
      const objs = render(dir);
      assert.ok(objs.length > 0);
      for (const o of objs) validateK8s(o);
    });
  }

  test("every resource deploy/kustomization.yaml lists is rendered (none dropped by kustomize)", () => {
    const files = listedFiles("deploy");
    assert.ok(files.length >= 10);
    for (const f of files)
      for (const o of parseYaml(readFileSync(join(REPO, f), "utf8")))
        assert.ok(byKind(base, o.kind, o.metadata.name).length === 1, `${o.kind}/${o.metadata.name} from ${f} is rendered`);
  });

  test("no Secret with a value is committed; the console takes its CA and token from optional Secrets", () => {
    assert.deepEqual(byKind(base, "Secret"), []);
    const [console] = as<IDeployment>(byKind(base, "Deployment", "trellis-console"));
    assert.equal(console.spec?.replicas, 1, "one replica with SQLite on its volume");
    const pod = console.spec!.template.spec!;
    assert.equal(pod.volumes?.find((v) => v.name === "ca")?.secret?.optional, true);
    assert.ok(pod.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "trellis-console-data"));
    const env = pod.containers[0].env ?? [];
    assert.equal(env.find((e) => e.name === "TRELLIS_JOIN_TOKEN")?.valueFrom?.secretKeyRef?.optional, true);
  });

  test("the webhook: pods of namespaces labelled trellis.io/inject=enabled, CREATE only, v1 reviews, failurePolicy Ignore", () => {
    const [hook] = as<IMutatingWebhookConfiguration>(byKind(base, "MutatingWebhookConfiguration"));
    const w = hook.webhooks![0];
    assert.deepEqual(w.namespaceSelector?.matchLabels, { "trellis.io/inject": "enabled" });
    assert.deepEqual(w.rules, [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"], scope: "Namespaced" }]);
    assert.deepEqual(w.admissionReviewVersions, ["v1"]);
    assert.equal(w.sideEffects, "None");
    assert.equal(w.failurePolicy, "Ignore");
    assert.deepEqual(w.clientConfig.service, { name: "trellis-injector", namespace: "trellis-system", path: "/mutate", port: 443 });
    assert.equal(hook.metadata?.annotations?.["cert-manager.io/inject-ca-from"], "trellis-system/trellis-injector-tls");
    const [cert] = as<ICertificate>(byKind(base, "Certificate", "trellis-injector-tls"));
    assert.ok(cert.spec?.dnsNames?.includes("trellis-injector.trellis-system.svc"));
    const [failClosed] = as<IMutatingWebhookConfiguration>(byKind(render("deploy/overlays/fail-closed"), "MutatingWebhookConfiguration"));
    assert.equal(failClosed.webhooks![0].failurePolicy, "Fail");
  });

  test("RBAC: the console reads EndpointSlices, Pods and Services, and nothing more", () => {
    const [role] = as<IClusterRole>(byKind(base, "ClusterRole"));
    for (const rule of role.rules ?? []) assert.deepEqual(rule.verbs, ["get", "list", "watch"]);
    const resources = (role.rules ?? []).flatMap((r) => r.resources ?? []);
    for (const r of ["endpointslices", "pods", "services"]) assert.ok(resources.includes(r), r);
    const [binding] = as<IClusterRoleBinding>(byKind(base, "ClusterRoleBinding"));
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "trellis-console", namespace: "trellis-system" }]);
  });

  test("every container runs as non-root without privilege escalation", () => {
    for (const d of as<IDeployment>([...byKind(base, "Deployment"), ...byKind(render("deploy/examples/shop"), "Deployment")])) {
      const pod = d.spec!.template.spec!;
      assert.equal(pod.securityContext?.runAsNonRoot, true, d.metadata?.name);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
    }
  });
});

describe("Containerfiles", () => {
  const dir = join(REPO, "deploy", "images");
  const files = readdirSync(dir).filter((f) => f.endsWith(".Containerfile"));

  test("one per image: console, agent, injector, shop", () => {
    assert.deepEqual(files.sort(), ["agent.Containerfile", "console.Containerfile", "injector.Containerfile", "shop.Containerfile"]);
  });

  for (const f of files)
    test(`${f}: multi-stage, built with npm ci, runs as a non-root user`, () => {
      const text = readFileSync(join(dir, f), "utf8");
      assert.ok((text.match(/^FROM /gm) ?? []).length >= 2, "multi-stage");
      assert.match(text, /RUN npm ci/);
      const users = [...text.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
      assert.ok(users.length > 0 && !["root", "0"].includes(users.at(-1)!), "last USER is not root");
    });
});

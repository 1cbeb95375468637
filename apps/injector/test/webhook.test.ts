/**
 * The webhook over real HTTPS, with AdmissionReviews as the API server sends them for each shop Deployment's pod: the
 * returned JSONPatch is applied with fast-json-patch and the result validated against the official Pod schema.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
// The package also ships its TypeScript sources (index.ts), which tsx would pick over index.js: take the ESM build.
import * as fastJsonPatch from "fast-json-patch/index.mjs";
import { SHOP_INSTANCES } from "../../../examples/shop/src/topology.ts";
import { podOfDeployment, reviewOf } from "./support/admission.ts";
import type { K8sObject } from "./support/k8s-schema.ts";
import { validateK8s } from "./support/k8s-schema.ts";
import { byKind, render } from "./support/kustomize.ts";
import { call, type RunningWebhook, startWebhook } from "./support/webhook.ts";

type Container = {
  name: string;
  args?: string[];
  restartPolicy?: string;
  startupProbe?: { httpGet?: { path: string; port: string } };
  ports?: { name?: string; containerPort: number }[];
  securityContext?: { capabilities: { add?: string[] } };
};
type DeploymentSpec = { replicas: number; template: { metadata: { labels: Record<string, string> } } };
const specOf = (d: K8sObject) => d.spec as DeploymentSpec;
const errorCode = (json: Record<string, unknown>) => (json.error as { code: string }).code;

let hook: RunningWebhook;
before(async () => {
  hook = await startWebhook();
});
after(() => hook.close());

async function admit(pod: K8sObject, opts: Parameters<typeof reviewOf>[1] = {}) {
  const sent = reviewOf(pod, opts);
  const { status, json } = await call(hook, "POST", "/mutate", JSON.stringify(sent));
  assert.equal(status, 200);
  assert.equal(json.apiVersion, "admission.k8s.io/v1");
  assert.equal(json.kind, "AdmissionReview");
  const response = json.response as Record<string, unknown>;
  assert.equal(response.uid, sent.request.uid, "the response echoes the request's uid");
  assert.equal(response.allowed, true);
  const ops = response.patch === undefined ? [] : JSON.parse(Buffer.from(String(response.patch), "base64").toString("utf8"));
  if (ops.length) assert.equal(response.patchType, "JSONPatch");
  else assert.equal(response.patchType, undefined);
  // validateOperation: each op must be well-formed and apply to this document (a bad path throws).
  const patched = fastJsonPatch.applyPatch(structuredClone(pod), ops, true, false).newDocument as K8sObject;
  return { ops, patched, response };
}

const shop = render("deploy/examples/shop");
const deployments = byKind(shop, "Deployment");

describe("injected pods of the shop", () => {
  test("the shop manifests cover every service and version of examples/shop/src/topology.ts", () => {
    const deployed = deployments.map((d) => {
      const l = specOf(d).template.metadata.labels;
      return `${l["app.kubernetes.io/name"]}/${l["app.kubernetes.io/version"]}×${specOf(d).replicas}`;
    });
    const counts = new Map<string, number>();
    for (const i of SHOP_INSTANCES) counts.set(`${i.service}/${i.version}`, (counts.get(`${i.service}/${i.version}`) ?? 0) + 1);
    assert.deepEqual(deployed.sort(), [...counts].map(([k, n]) => `${k}×${n}`).sort());
    assert.deepEqual(
      byKind(shop, "Service")
        .map((s) => s.metadata.name)
        .sort(),
      [...new Set(SHOP_INSTANCES.map((i) => i.service))].sort(),
    );
  });

  for (const deployment of deployments) {
    test(`${deployment.metadata.name}: injected over HTTPS, patch applies, Pod valid, idempotent`, async () => {
      const pod = podOfDeployment(deployment);
      validateK8s(pod); // the review's object itself is a valid Pod
      const { ops, patched } = await admit(pod);
      assert.ok(ops.length > 0);
      validateK8s(patched);
      const labels = specOf(deployment).template.metadata.labels;
      const init = (patched.spec as { initContainers: Container[] }).initContainers;
      assert.deepEqual(
        init.map((c) => c.name),
        ["trellis-capture", "trellis-agent"],
      );
      const [capture, agent] = init;
      assert.equal(agent.restartPolicy, "Always", "native sidecar");
      assert.deepEqual(agent.startupProbe?.httpGet, { path: "/ready", port: "trellis-admin" }, "the app waits for the agent's /ready");
      const adminPort = agent.ports?.find((p) => p.name === "trellis-admin")?.containerPort;
      assert.equal(capture.args?.[capture.args.indexOf("--admin-port") + 1], String(adminPort), "capture leaves the probed port alone");
      const arg = (name: string) => agent.args?.[agent.args.indexOf(name) + 1];
      assert.equal(arg("--service"), labels["app.kubernetes.io/name"]);
      assert.equal(arg("--version"), labels["app.kubernetes.io/version"]);
      assert.equal(arg("--app-port"), "8080");
      assert.equal(capture.args?.[0], "init-capture");
      assert.deepEqual(capture.securityContext?.capabilities.add, ["NET_ADMIN", "NET_RAW"]);
      assert.equal(capture.restartPolicy, undefined, "the capture step runs once, before the agent");
      assert.equal(patched.metadata.annotations?.["trellis.io/status"], "injected");
      assert.equal(patched.metadata.labels?.["trellis.io/version"], labels["app.kubernetes.io/version"]);

      const again = await admit(patched);
      assert.deepEqual(again.ops, [], "an injected pod gets an empty patch");
    });
  }
});

describe("admission semantics", () => {
  const pod = podOfDeployment(deployments[0]);

  test("a pod annotated trellis.io/inject: disabled is allowed untouched", async () => {
    const off = structuredClone(pod);
    off.metadata.annotations = { ...off.metadata.annotations, "trellis.io/inject": "disabled" };
    const { ops, response } = await admit(off);
    assert.deepEqual(ops, []);
    assert.equal(response.warnings, undefined);
  });

  test("dryRun reviews get the same patch (the webhook has no side effects)", async () => {
    const wet = await admit(pod);
    const dry = await admit(pod, { dryRun: true });
    assert.deepEqual(dry.ops, wet.ops);
  });

  test("operations other than CREATE are let through untouched", async () => {
    const { ops } = await admit(pod, { operation: "UPDATE" });
    assert.deepEqual(ops, []);
  });

  test("a pod without a service label is admitted un-meshed, with a warning kubectl shows", async () => {
    const anon = structuredClone(pod);
    anon.metadata.labels = { "pod-template-hash": "x" };
    const { ops, response } = await admit(anon);
    assert.deepEqual(ops, []);
    assert.match(String((response.warnings as string[])[0]), /not injected: no service label/);
  });

  test("malformed reviews and wrong methods get stable error codes", async () => {
    const bad = await call(hook, "POST", "/mutate", "{not json");
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad.json), "TRELLIS_INJECTOR_BAD_REVIEW");
    const v1beta1 = await call(hook, "POST", "/mutate", JSON.stringify({ ...reviewOf(pod), apiVersion: "admission.k8s.io/v1beta1" }));
    assert.equal(errorCode(v1beta1.json), "TRELLIS_INJECTOR_BAD_REVIEW");
    const get = await call(hook, "GET", "/mutate");
    assert.equal(get.status, 405);
    assert.equal(errorCode(get.json), "TRELLIS_INJECTOR_METHOD");
    assert.equal((await call(hook, "GET", "/healthz")).status, 200);
  });
});

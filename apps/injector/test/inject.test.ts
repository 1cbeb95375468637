/** inject(pod, config), the pure function behind the webhook: what it adds, what it refuses, and config parsing. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as fastJsonPatch from "fast-json-patch/index.mjs";
import type { IPod } from "kubernetes-models/v1";
import { DEFAULT_CONFIG, loadInjectorConfig } from "../src/config.ts";
import { inject } from "../src/inject.ts";
import { pointerKey } from "../src/json-patch.ts";
import { type K8sObject, validateK8s } from "./support/k8s-schema.ts";

function pod(extra: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Partial<NonNullable<IPod["spec"]>> } = {}): IPod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: "cart-v1-",
      labels: extra.labels ?? { app: "cart", version: "v2" },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec: { containers: [{ name: "cart", image: "shop:1", ports: [{ containerPort: 9000 }] }], ...extra.spec },
  };
}

const apply = (p: IPod) => {
  const r = inject(p, DEFAULT_CONFIG);
  return { ...r, pod: fastJsonPatch.applyPatch(structuredClone(p), r.patch as fastJsonPatch.Operation[], true, false).newDocument };
};
const args = (p: IPod) => p.spec!.initContainers!.find((c) => c.name === "trellis-agent")!.args!;

describe("inject", () => {
  test("labels `app`/`version` and the first containerPort describe the workload; a bare pod gets maps and arrays created", () => {
    const { pod: out, skipped } = apply(pod());
    assert.equal(skipped, null);
    const a = args(out);
    assert.deepEqual([a[1], a[3], a[5]], ["cart", "v2", "9000"]);
    assert.equal(out.metadata?.annotations?.["trellis.io/status"], "injected");
    assert.equal(out.metadata?.annotations?.["prometheus.io/port"], "15020", "Prometheus scrapes the agent's /metrics");
    assert.equal(out.metadata?.labels?.["trellis.io/service"], "cart");
    assert.deepEqual(
      out.spec?.volumes?.map((v) => v.name),
      ["trellis-state", "trellis-join-token"],
    );
    validateK8s(out as K8sObject);
  });

  test("the pod's own init containers keep their order and run after the agent (already meshed)", () => {
    const own = [
      { name: "migrate", image: "m:1" },
      { name: "warm", image: "w:1" },
    ];
    const { pod: out } = apply(pod({ spec: { initContainers: own, volumes: [{ name: "data", emptyDir: {} }] } }));
    assert.deepEqual(
      out.spec?.initContainers?.map((c) => c.name),
      ["trellis-capture", "trellis-agent", "migrate", "warm"],
    );
    assert.deepEqual(
      out.spec?.volumes?.map((v) => v.name),
      ["data", "trellis-state", "trellis-join-token"],
    );
  });

  test("the trellis.io/app-port annotation wins; a port that collides with the agent's is refused with a warning", () => {
    assert.equal(args(apply(pod({ annotations: { "trellis.io/app-port": "7000" } })).pod)[5], "7000");
    const clash = inject(pod({ annotations: { "trellis.io/app-port": "15001" } }), DEFAULT_CONFIG);
    assert.deepEqual(clash.patch, []);
    assert.match(clash.warnings[0], /collides with the agent's ports/);
  });

  test("hostNetwork pods, pods without a service label, and invalid labels are left alone with a reason", () => {
    assert.match(inject(pod({ spec: { hostNetwork: true } }), DEFAULT_CONFIG).skipped!, /hostNetwork/);
    assert.match(inject(pod({ labels: {} }), DEFAULT_CONFIG).skipped!, /no service label/);
    assert.match(inject(pod({ labels: { app: "Cart_Service" } }), DEFAULT_CONFIG).skipped!, /not a DNS label/);
  });

  test("idempotent, and annotated-disabled pods untouched", () => {
    const once = apply(pod()).pod;
    assert.deepEqual(inject(once, DEFAULT_CONFIG).patch, []);
    assert.deepEqual(inject(pod({ annotations: { "trellis.io/inject": "disabled" } }), DEFAULT_CONFIG).patch, []);
  });

  test("a grace period shorter than the agent's drain is raised; a longer one is kept", () => {
    assert.equal(apply(pod({ spec: { terminationGracePeriodSeconds: 1 } })).pod.spec?.terminationGracePeriodSeconds, DEFAULT_CONFIG.drainSeconds + 2);
    assert.equal(apply(pod({ spec: { terminationGracePeriodSeconds: 60 } })).pod.spec?.terminationGracePeriodSeconds, 60);
  });

  test("JSON pointer keys escape '/' and '~' (annotation keys)", () => {
    assert.equal(pointerKey("trellis.io/status"), "trellis.io~1status");
    assert.equal(pointerKey("a~b/c"), "a~0b~1c");
  });

  test("the schema check is not vacuous: a wrong type is rejected", () => {
    const bad = { ...pod(), spec: { containers: [{ name: "x", image: "y", ports: [{ containerPort: "http" }] }] } };
    assert.throws(() => validateK8s(bad as unknown as K8sObject), /containerPort must be integer/);
  });
});

describe("loadInjectorConfig", () => {
  test("defaults, overrides, and stable error codes for bad values", () => {
    assert.deepEqual(loadInjectorConfig({}), DEFAULT_CONFIG);
    const c = loadInjectorConfig({ TRELLIS_AGENT_IMAGE: "reg/agent:2", TRELLIS_EXCLUDE_OUTBOUND_PORTS: "5432, 6379" });
    assert.equal(c.agentImage, "reg/agent:2");
    assert.deepEqual(c.excludeOutboundPorts, [5432, 6379]);
    assert.throws(() => loadInjectorConfig({ TRELLIS_CONSOLE_URL: "http://x" }), { code: "TRELLIS_INJECTOR_CONFIG" });
    assert.throws(() => loadInjectorConfig({ TRELLIS_PROXY_UID: "0" }), { code: "TRELLIS_INJECTOR_CONFIG" });
  });

  test("excluded ports reach the capture init step's flags", () => {
    const cfg = loadInjectorConfig({ TRELLIS_EXCLUDE_OUTBOUND_PORTS: "5432", TRELLIS_EXCLUDE_INBOUND_PORTS: "9100" });
    const out = fastJsonPatch.applyPatch(structuredClone(pod()), inject(pod(), cfg).patch as fastJsonPatch.Operation[]).newDocument;
    const capture = out.spec!.initContainers![0].args!;
    assert.equal(capture[capture.indexOf("--exclude-outbound-ports") + 1], "5432");
    assert.equal(capture[capture.indexOf("--exclude-inbound-ports") + 1], "9100");
    assert.equal(capture[capture.indexOf("--proxy-uid") + 1], "1337");
  });
});

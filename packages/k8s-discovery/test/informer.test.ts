/**
 * Kubernetes discovery end to end through the real @kubernetes/client-node informers, against a local server that
 * replays list/watch responses in the API server's wire format (test/fixtures): the initial LIST, watch events
 * (MODIFIED, BOOKMARK, ADDED, DELETED), a watch that ends (the informer re-watches from the last resourceVersion), a
 * 410 Expired ERROR (the informer relists), and the meshed pods' versions from the Pod informer.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { type KubernetesDiscovery, startKubernetesDiscovery } from "../src/index.ts";
import { type ReplayServer, startReplayServer } from "./support/replay-api-server.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));
const SLICES = "/apis/discovery.k8s.io/v1/endpointslices";
const PODS = "/api/v1/pods";

let api: ReplayServer;
let discovery: KubernetesDiscovery;
const changes: string[][] = [];

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const addresses = (service: string) => discovery.endpoints(service).map((e) => `${e.instanceId}@${e.address}/${e.version}`);

before(async () => {
  api = await startReplayServer(FIXTURES, {
    [SLICES]: {
      lists: ["endpointslices-list.json", "endpointslices-relist.json"],
      watches: [
        { file: "endpointslices-watch-1.jsonl" },
        { file: "endpointslices-watch-2.jsonl" },
        { file: "endpointslices-watch-3.jsonl", hold: true },
      ],
    },
    [PODS]: { lists: ["pods-list.json"], watches: [{ file: "pods-watch-1.jsonl", hold: true }] },
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "replay", server: api.url, skipTLSVerify: true }],
    users: [{ name: "trellis-console", token: "replayed" }],
    contexts: [{ name: "replay", cluster: "replay", user: "trellis-console" }],
    currentContext: "replay",
  });
  discovery = startKubernetesDiscovery(kc, { onChange: (s) => changes.push(s), restartDelayMs: 50 });
  await discovery.synced;
});

after(async () => {
  await discovery.stop();
  await api.close();
});

test("after the LIST: only ready endpoints, ports by name, versions from the meshed pods, foreign slices ignored", () => {
  assert.deepEqual(addresses("catalog"), ["catalog-v1-6d4b9c7f8-x2v9q.shop@10.244.1.12:8080/v1"], "the starting pod (ready: false) is not served");
  assert.deepEqual(addresses("payments"), [
    "payments-v1-5f7c8d9b6-k2m4n.shop@10.244.1.20:8080/v1",
    "payments-v2-7b9d6c5f4-p9r8s.shop@10.244.2.31:8080/v2",
  ]);
  assert.deepEqual(addresses("kubernetes"), [], "the API server's own slice has no port named trellis-inbound/http");
  assert.deepEqual(discovery.services(), ["catalog", "kubernetes", "payments"], "a slice without kubernetes.io/service-name is not a Service's");
  assert.equal(discovery.serves("catalog-v1-6d4b9c7f8-x2v9q.shop"), true);
  assert.equal(discovery.serves("catalog-v1-6d4b9c7f8-lk4hw.shop"), false, "not ready");
  assert.deepEqual(api.requests.slice(0, 1), [SLICES]);
  assert.ok(api.requests.includes(`${PODS}?labelSelector=trellis.io%2Fversion`), "only meshed pods are listed");
});

test("watch events: MODIFIED makes a pod ready, ADDED brings a service once its pod is known as meshed", async () => {
  api.release(SLICES);
  api.release(PODS);
  await until("catalog's second pod", () => addresses("catalog").length === 2);
  await until("reviews' endpoint", () => addresses("reviews").length === 1);
  assert.deepEqual(addresses("reviews"), ["reviews-v1-84c6f5d7b9-wq2zt.shop@10.244.1.33:8080/v1"]);
  assert.ok(changes.some((c) => c.includes("catalog")) && changes.some((c) => c.includes("reviews")));
});

test("a watch that ends is resumed from the last resourceVersion; 410 Expired makes the informer relist", async () => {
  // watch 1 ended after its ADDED at 48310: the informer watches again from there (the BOOKMARK's 48300 was passed).
  await until("the second watch", () => api.requests.some((r) => r.startsWith(SLICES) && r.includes("resourceVersion=48310")));
  api.release(SLICES); // 410 Expired, then the stream ends
  await until("the relist", () => api.requests.filter((r) => r === SLICES).length === 2);
  // In the relisted state payments v1 is terminating (ready: false, serving: true): no longer served.
  await until("payments v1 draining", () => addresses("payments").length === 1);
  assert.deepEqual(addresses("payments"), ["payments-v2-7b9d6c5f4-p9r8s.shop@10.244.2.31:8080/v2"]);
  await until("the watch after the relist", () => api.requests.some((r) => r.startsWith(SLICES) && r.includes("resourceVersion=48400")));
  api.release(SLICES); // DELETED reviews
  await until("reviews gone", () => addresses("reviews").length === 0);
  const sliceRequests = api.requests.filter((r) => r.startsWith(SLICES)).map((r) => r.replace(SLICES, "") || "LIST");
  assert.deepEqual(sliceRequests, [
    "LIST",
    "?watch=true&resourceVersion=48211",
    "?watch=true&resourceVersion=48310",
    "LIST",
    "?watch=true&resourceVersion=48400",
  ]);
});

/** An API server that fails the first LIST: discovery reports the error, retries, and is synced only once it listed. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { startKubernetesDiscovery } from "../src/index.ts";
import { startReplayServer } from "./support/replay-api-server.ts";

const SLICES = "/apis/discovery.k8s.io/v1/endpointslices";

test("a failed LIST is retried after the delay; synced waits for a successful one", async () => {
  const api = await startReplayServer(fileURLToPath(new URL("./fixtures", import.meta.url)), {
    [SLICES]: { lists: ["", "endpointslices-list.json"], watches: [{ file: "endpointslices-watch-3.jsonl", hold: true }] },
    "/api/v1/pods": { lists: ["pods-list.json"], watches: [{ file: "pods-watch-1.jsonl", hold: true }] },
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "replay", server: api.url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "replay", user: "u" }],
    currentContext: "c",
  });
  const errors: unknown[] = [];
  const discovery = startKubernetesDiscovery(kc, { onError: (e) => errors.push(e), restartDelayMs: 100 });
  try {
    await discovery.synced;
    assert.equal(errors.length, 1, "the 500 was reported");
    assert.equal(api.requests.filter((r) => r === SLICES).length, 2, "listed again after the failure");
    assert.equal(discovery.endpoints("payments").length, 2, "synced means listed: the endpoints are there");
  } finally {
    await discovery.stop();
    await api.close();
  }
});

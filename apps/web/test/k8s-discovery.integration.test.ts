/**
 * The console with TRELLIS_DISCOVERY=kubernetes against a local server replaying an API server's list/watch responses
 * (packages/k8s-discovery/test/fixtures): a connected agent is served as an endpoint only while its pod is a ready
 * EndpointSlice endpoint, and a slice change (a pod becoming ready) pushes new snapshots.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type ConsoleHandle, endpointsOf, FakeAgent, startConsole, stopAll, tempDir } from "@trellis/testkit";
import { type ReplayServer, startReplayServer } from "../../../packages/k8s-discovery/test/support/replay-api-server.ts";

const FIXTURES = fileURLToPath(new URL("../../../packages/k8s-discovery/test/fixtures", import.meta.url));
const SLICES = "/apis/discovery.k8s.io/v1/endpointslices";

let api: ReplayServer;
let console: ConsoleHandle;
const agents: FakeAgent[] = [];

before(async () => {
  api = await startReplayServer(FIXTURES, {
    [SLICES]: { lists: ["endpointslices-list.json"], watches: [{ file: "endpointslices-watch-1.jsonl", hold: true }] },
    "/api/v1/pods": { lists: ["pods-list.json"], watches: [{ file: "pods-watch-1.jsonl", hold: true }] },
  });
  const kubeconfig = join(tempDir("kubeconfig"), "config");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      // Plain HTTP to the replay server: the client refuses it unless TLS verification is off.
      clusters: [{ name: "replay", cluster: { server: api.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "console", user: { token: "replayed" } }],
      contexts: [{ name: "replay", context: { cluster: "replay", user: "console" } }],
      "current-context": "replay",
    }),
  );
  console = await startConsole({
    env: { NODE_ENV: "production", TRELLIS_DISCOVERY: "kubernetes", KUBECONFIG: kubeconfig, KUBERNETES_SERVICE_HOST: "" },
  });
});

after(async () => {
  for (const a of agents) a.close();
  await stopAll();
  await api.close();
});

const agent = (service: string, instanceId: string, address: string) => {
  const a = new FakeAgent(console.wsUrl, { service, instanceId, address, token: console.token });
  agents.push(a);
  return a.connect();
};

test("only agents whose pod is a ready EndpointSlice endpoint are served; a pod turning ready is pushed", async () => {
  const ready = await agent("catalog", "catalog-v1-6d4b9c7f8-x2v9q.shop", "10.244.1.12:15006");
  const starting = await agent("catalog", "catalog-v1-6d4b9c7f8-lk4hw.shop", "10.244.2.7:15006");
  await ready.nextSnapshot();
  await starting.nextSnapshot(); // registered: its hello was answered
  const web = await agent("web", "web-v1-1.shop", "10.244.3.3:15006");
  const first = await web.nextSnapshot((s) => endpointsOf(s, "catalog").length > 0, 10_000);
  assert.deepEqual(endpointsOf(first.snapshot, "catalog"), ["10.244.1.12:15006"], "the starting pod (ready: false) is not served");
  assert.deepEqual(endpointsOf(first.snapshot, "web"), [], "web's pod is in no EndpointSlice");

  api.release(SLICES); // MODIFIED: catalog's second pod is ready now
  const next = await web.nextSnapshot((s) => endpointsOf(s, "catalog").length === 2, 10_000);
  assert.deepEqual(endpointsOf(next.snapshot, "catalog"), ["10.244.1.12:15006", "10.244.2.7:15006"]);
  assert.ok(console.proc.lines.some((l) => l.msg === "kubernetes discovery synced"));
});

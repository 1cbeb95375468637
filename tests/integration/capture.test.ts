/**
 * Capture mode in real Linux network namespaces (issue 12, "Done when": the namespace test). Three "pods" (web,
 * catalog, payments), each a network namespace with its own address on a private bridge (PodNetwork, @trellis/testkit/netns),
 * each with a plain app on port 8080 that calls the next one by name (`http://catalog:8080/chain`, no proxy
 * environment) and an agent in capture mode running as UID 1337, its rules installed by `trellis-agent init-capture`.
 * The console runs on the host on the bridge's host address (10.250.<k>.1), which the agents reach over the veth;
 * beyond loopback it serves wss, and the kit hands the agents its CA (--console-ca).
 *
 * Root only (namespaces, iptables): without root the suite fails at once and says so; it never skips.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type AgentHandle,
  adminSession,
  agentCli,
  type ConsoleSession,
  eventually,
  type Pod,
  PodNetwork,
  ProcessGroup,
  repoRoot,
  requireNamespaces,
  startAgent,
  startConsole,
  stopAll,
  tempDir,
} from "@trellis/testkit";

const PROXY_UID = 1337;
const APP_PORT = 8080;
const PORTS = { outbound: 15001, inbound: 15006, admin: 15020 };
const CHAIN: Record<string, string | undefined> = { web: "catalog:8080", catalog: "payments:8080", payments: undefined };
const appScript = join(repoRoot, "tests/support/capture-app.mjs");
const spiffe = (s: string) => `spiffe://trellis.local/service/${s}`;

describe("capture mode: three pods in network namespaces, apps unchanged", { concurrency: false }, () => {
  let net: PodNetwork | null = null;
  let admin: ConsoleSession;
  const agents = new Map<string, AgentHandle>();
  const apps = new Map<string, ProcessGroup>();

  const initCapture = (pod: Pod, ...flags: string[]) =>
    execFileSync(...split(net!.exec(pod, [process.execPath, agentCli, "init-capture", ...flags])), { encoding: "utf8", timeout: 15_000 });
  const install = (pod: Pod) =>
    initCapture(
      pod,
      ...["--outbound-port", PORTS.outbound, "--inbound-port", PORTS.inbound, "--admin-port", PORTS.admin, "--proxy-uid", PROXY_UID].map(String),
    );
  const natRules = (pod: Pod) => execFileSync(...split(net!.exec(pod, ["iptables", "-t", "nat", "-S"])), { encoding: "utf8", timeout: 15_000 });

  /** GET from inside a pod with node:http (no proxy), as root (an app) or as another UID; never throws. */
  async function podGet(pod: Pod, url: string, opts: { uid?: number; host?: string } = {}) {
    const headers = opts.host ? `{ host: ${JSON.stringify(opts.host)} }` : "{}";
    const code = `import http from "node:http";
      const req = http.get(${JSON.stringify(url)}, { headers: ${headers}, timeout: 5000 }, (r) => { let b = ""; r.setEncoding("utf8").on("data", (d) => (b += d));
        r.on("end", () => console.log(JSON.stringify({ status: r.statusCode, error: r.headers["x-trellis-error"] ?? null, body: b }))); });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (e) => console.log(JSON.stringify({ status: 0, error: e.code ?? e.message })));`;
    const out = await net!.node(pod, code, opts.uid);
    if (out.code !== 0) throw new Error(`node in ${pod.ns} failed: ${out.stderr}`);
    return JSON.parse(out.stdout) as { status: number; error: string | null; body: string };
  }

  const adminGet = async (pod: Pod, path: string) => (await podGet(pod, `http://127.0.0.1:${PORTS.admin}${path}`)).body;
  const adminJson = async (pod: Pod, path: string) => JSON.parse(await adminGet(pod, path));

  before(async () => {
    requireNamespaces();
    net = new PodNetwork(["web", "catalog", "payments"]);
    net.create();
    const consoleProc = await startConsole({ env: { HOST: net.hostIp } });
    admin = await adminSession(consoleProc.url);
    for (const pod of net.pods) {
      const app = new ProcessGroup(
        `app ${pod.name}`,
        ...split(net.exec(pod, [process.execPath, appScript, pod.name, String(APP_PORT), CHAIN[pod.name] ?? ""])),
      );
      apps.set(pod.name, app);
      await app.waitFor((l) => l.msg === "app listening", 10_000, "app listening");
      install(pod);
      const stateDir = tempDir(`capture-${pod.name}`);
      chmodSync(stateDir, 0o777);
      const args = ["--capture", "--advertise-host", pod.ip];
      args.push("--outbound-port", String(PORTS.outbound), "--inbound-port", String(PORTS.inbound), "--admin-port", String(PORTS.admin));
      const agent = await startAgent({
        service: pod.name,
        appPort: APP_PORT,
        console: consoleProc.wsAgents,
        token: consoleProc.token,
        stateDir,
        instanceId: `${pod.name}-v1-capture`,
        args,
        prefix: net.exec(pod, [], PROXY_UID), // in the pod, as the proxy UID
      });
      agents.set(pod.name, agent);
    }
    for (const pod of net.pods) await eventually(async () => (await adminJson(pod, "/identity"))?.spiffeId, 20_000, `${pod.name} certificate`);
    for (const s of ["catalog", "payments"]) await admin.mutate("security.setMtls", { name: s, mode: "STRICT" });
    const applied = async (pod: Pod, service: string) => {
      const snap = (await adminJson(pod, "/config")).snapshot;
      const svc = snap?.services?.find((x: { name: string }) => x.name === service);
      return svc?.mtls === "STRICT" && svc.endpoints.length > 0;
    };
    await eventually(
      async () =>
        (await applied(net!.pod("web"), "catalog")) &&
        (await applied(net!.pod("catalog"), "catalog")) &&
        (await applied(net!.pod("catalog"), "payments")) &&
        (await applied(net!.pod("payments"), "payments")),
      20_000,
      "STRICT for catalog and payments applied, endpoints known",
    );
  });

  after(async () => {
    try {
      await stopAll();
    } finally {
      net?.destroy();
    }
  });

  test("apps call each other by name with no proxy setting; every call crosses both agents over mTLS and shows on the graph", async () => {
    for (let i = 0; i < 5; i++) {
      // From the host into the web pod: redirected to web's inbound (ingress), then web → catalog → payments by name.
      const res = await fetch(`http://${net!.pod("web").ip}:${APP_PORT}/chain`, { signal: AbortSignal.timeout(10_000) });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.next.service, "catalog");
      assert.equal(body.next.host, "catalog:8080", "the app's own Host reaches the destination app");
      assert.equal(body.next.peer, spiffe("web"), "catalog's agent saw web's certificate (mTLS)");
      assert.equal(body.next.source, "web/v1", "set by web's agent");
      assert.equal(body.next.next.service, "payments");
      assert.equal(body.next.next.peer, spiffe("catalog"));
    }
    for (const [source, destination] of [
      ["web", "catalog"],
      ["catalog", "payments"],
    ])
      await eventually(
        async () =>
          (await admin.liveEdges()).find((e) => e.source === source && e.destination === destination && e.requests > 0 && e.mtlsShare === 1),
        10_000,
        `edge ${source} -> ${destination} over mTLS on the live graph`,
      );
  });

  test("STRICT refuses a call that skips the caller's agent; unknown hosts and non-HTTP get a clear refusal; admin is not redirected", async () => {
    const web = net!.pod("web");
    // As the proxy UID, web's rules let the call out unproxied; catalog's rules still send it to catalog's agent,
    // which is STRICT: plaintext is refused and the app never sees it.
    const skip = await podGet(web, "http://catalog:8080/skip-the-agent", { uid: PROXY_UID });
    assert.equal(skip.status, 0, `refused, got ${JSON.stringify(skip)}`);
    assert.match(String(skip.error), /ECONNRESET|socket hang up|EPIPE/, "closed by catalog's agent, not unreachable");
    // A raw call from outside the mesh (the host) to catalog's app port is redirected to the STRICT inbound too.
    await assert.rejects(fetch(`http://${net!.pod("catalog").ip}:${APP_PORT}/skip-from-outside`, { signal: AbortSignal.timeout(5_000) }));
    const catalogSaw = apps
      .get("catalog")!
      .lines.filter((l) => l.msg === "request")
      .map((l) => String(l.url));
    assert.ok(catalogSaw.includes("/chain"), "the app logs what it serves");
    assert.ok(!catalogSaw.some((u) => u.startsWith("/skip-")), "the app saw neither skip attempt");
    // An ordinary app call to a name the mesh does not know: web's agent answers 503 unknown-service.
    const unknown = await podGet(web, `http://${net!.pod("catalog").ip}:8080/x`, { host: "nosuch:8080" });
    assert.deepEqual([unknown.status, unknown.error], [503, "unknown-service"]);
    // The admin port is left unredirected: probes from outside the pod reach the agent's admin, not STRICT inbound.
    const probe = await fetch(`http://${net!.pod("catalog").ip}:${PORTS.admin}/ready`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(probe.status, 200);
    // A non-HTTP client (a PostgreSQL SSLRequest): closed at once by web's agent, counted.
    const raw = await net!.node(
      web,
      `import net from "node:net"; const t = Date.now(); const s = net.connect(5432, "catalog");
       s.on("connect", () => s.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]))); s.on("data", () => {});
       s.on("error", () => {}); s.on("close", () => console.log(Date.now() - t)); setTimeout(() => console.log("hung"), 5000).unref();`,
    );
    assert.ok(Number(raw.stdout) < 3_000, `closed promptly (${raw.stdout.trim()})`);
    const metrics = await adminGet(web, "/metrics");
    assert.match(metrics, /trellis_proxy_errors_total\{listener="outbound",error="non-http"\} [1-9]/);
  });

  test("init-capture --remove restores the plain network: a direct call reaches the app without any agent", async () => {
    for (const pod of net!.pods) {
      initCapture(pod, "--remove");
      assert.doesNotMatch(natRules(pod), /TRELLIS/);
      initCapture(pod, "--remove"); // idempotent
    }
    const direct = await podGet(net!.pod("web"), "http://catalog:8080/direct");
    assert.equal(direct.status, 200);
    const seen = JSON.parse(direct.body);
    assert.deepEqual([seen.service, seen.peer, seen.source], ["catalog", null, null], "no agent on the way");
  });
});

/** [program, args] for spawn/execFile from one argv array. */
function split(argv: string[]): [string, string[]] {
  return [argv[0], argv.slice(1)];
}

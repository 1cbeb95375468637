/**
 * The built `trellis` CLI against a real console with an API token: status (agents and their sync state), get
 * services / policy / revisions in each format, split and rollback recorded as `token:<name>`; where the console and
 * token come from (flags, environment, config file); refused calls exit 1 with the reason, wrong use exits 2.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type ConsoleHandle,
  ConsoleSession,
  eventually,
  FakeAgent,
  freePort,
  repoRoot,
  run,
  startAgent,
  startConsole,
  stopAll,
} from "@trellis/testkit";
import { parse } from "yaml";
import { trellis } from "./trellis.ts";

describe("trellis CLI", () => {
  let c: ConsoleHandle;
  let operator: string;
  let viewer: string;
  const agents: FakeAgent[] = [];
  const as = (token: string) => ({ TRELLIS_CONSOLE: c.url, TRELLIS_TOKEN: token });

  before(async () => {
    c = await startConsole();
    const admin = await ConsoleSession.signIn(c.url);
    operator = (await admin.mutate<{ token: string }>("apiTokens.create", { name: "cli", role: "operator", expiresAt: null })).token;
    viewer = (await admin.mutate<{ token: string }>("apiTokens.create", { name: "reader", role: "viewer", expiresAt: null })).token;
    for (const version of ["v1", "v2"]) {
      const a = new FakeAgent(c.wsUrl, { service: "payments", version, token: c.token, address: `127.0.0.1:${version === "v1" ? 7101 : 7102}` });
      agents.push(a);
      await a.connect();
      await a.nextSnapshot();
    }
  });
  after(() => {
    for (const a of agents) a.close();
    return stopAll();
  });

  test("--help from the repo root through npx (the workspace bin is on the PATH)", async () => {
    assert.match(await run("npx", ["--no-install", "trellis", "--help"], { cwd: repoRoot, timeoutMs: 60_000 }), /trellis status/);
  });

  test("status: every agent with service, version, instance, config version, sync state, last seen", async () => {
    const r = await trellis(["status", "--console", c.url, "--token", viewer]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SERVICE\s+VERSION\s+INSTANCE\s+CONFIG\s+SYNC\s+CONNECTED\s+LAST SEEN/);
    for (const a of agents) assert.match(r.stdout, new RegExp(`payments\\s+v\\d\\s+${a.instanceId}\\s+v\\d+\\s+SYNCED\\s+yes\\s+\\d+s ago`));
    const json = JSON.parse((await trellis(["status", "-o", "json"], as(viewer))).stdout) as { agents: { syncState: string }[] };
    assert.equal(json.agents.length, 2);
  });

  test("get services in table, json and yaml", async () => {
    const t = await trellis(["get", "services"], as(viewer));
    assert.match(t.stdout, /^NAME\s+VERSIONS\s+INSTANCES/);
    assert.match(t.stdout, /payments\s+v1,v2\s+2\/2/);
    const j = JSON.parse((await trellis(["get", "services", "-o", "json"], as(viewer))).stdout) as { name: string }[];
    assert.deepEqual(
      j.map((s) => s.name),
      ["payments"],
    );
    const y = parse((await trellis(["get", "services", "-o=yaml"], as(viewer))).stdout) as { name: string }[];
    assert.equal(y[0].name, "payments");
  });

  test("split, get policy, get revisions (actor token:cli), rollback", async () => {
    const s = await trellis(["split", "payments", "v1=90", "v2=10"], as(operator));
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /payments: split v1=90 v2=10 \(revision (\d+)/);
    const policy = parse((await trellis(["get", "policy", "payments"], as(viewer))).stdout) as { policy: { split: unknown } };
    assert.deepEqual(policy.policy.split, [
      { version: "v1", weight: 90 },
      { version: "v2", weight: 10 },
    ]);
    const revs = JSON.parse((await trellis(["get", "revisions", "--service", "payments", "-o", "json"], as(viewer))).stdout) as {
      id: number;
      actor: string;
    }[];
    assert.equal(revs[0].actor, "token:cli");
    const table = await trellis(["get", "revisions"], as(viewer));
    assert.match(table.stdout, new RegExp(`${revs[0].id}\\s+\\S+\\s+token:cli\\s+traffic\\s+payments`));
    const rb = await trellis(["rollback", String(revs[0].id)], as(operator));
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, new RegExp(`revision ${revs[0].id} rolled back`));
    const after = JSON.parse((await trellis(["get", "policy", "payments", "-o", "json"], as(viewer))).stdout) as { policy: { split?: unknown } };
    assert.equal(after.policy.split, undefined);
  });

  test("diff and apply -f: a valid file is shown, then stored as token:cli; applying it again changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trellis-apply-"));
    writeFileSync(
      join(dir, "payments.yaml"),
      "kind: ServicePolicy\nservice: payments\npolicy:\n  timeoutMs: 2500\n  split:\n    - version: v1\n      weight: 80\n    - version: v2\n      weight: 20\n",
    );
    const d = await trellis(["diff", "-f", dir], as(viewer));
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /payments \(.*payments\.yaml\):\n/);
    assert.match(d.stdout, /\+ timeoutMs: 2500/);
    assert.match(d.stdout, /\+ split: \[\{"version":"v1","weight":80\}/);
    const a = await trellis(["apply", "-f", join(dir, "payments.yaml")], as(operator));
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /payments: configured \(2 field\(s\); revision \d+/);
    const policy = JSON.parse((await trellis(["get", "policy", "payments", "-o", "json"], as(viewer))).stdout) as { policy: { timeoutMs: number } };
    assert.equal(policy.policy.timeoutMs, 2500);
    const revs = JSON.parse((await trellis(["get", "revisions", "-o", "json"], as(viewer))).stdout) as { actor: string }[];
    assert.equal(revs[0].actor, "token:cli");
    assert.match((await trellis(["diff", "-f", dir], as(viewer))).stdout, /no changes/);
    assert.match((await trellis(["apply", "-f", dir], as(operator))).stdout, /payments: unchanged/);
  });

  test("apply -f of an invalid file: exit 1, each problem with file, line and field, nothing stored", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trellis-invalid-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "service: payments\npolicy:\n  timeoutMs: -5\n  retries:\n    attemps: 3\n");
    const before = (JSON.parse((await trellis(["get", "revisions", "-o", "json"], as(viewer))).stdout) as unknown[]).length;
    const r = await trellis(["apply", "-f", file], as(operator));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file}:3:14: policy\\.timeoutMs: `));
    assert.match(r.stderr, new RegExp(`${file}:5:5: policy\\.retries: .*attemps`));
    const versions = join(dir, "versions.yaml");
    writeFileSync(versions, "service: payments\npolicy:\n  split:\n    - version: v1\n      weight: 50\n    - version: v9\n      weight: 50\n");
    const v = await trellis(["apply", "-f", versions], as(operator));
    assert.equal(v.code, 1);
    assert.match(v.stderr, new RegExp(`${versions}:6:16: policy\\.split\\.1\\.version: unknown version v9 of payments`));
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "service: payments\npolicy: [unclosed\n");
    const b = await trellis(["diff", "-f", broken], as(operator));
    assert.equal(b.code, 1);
    assert.match(b.stderr, new RegExp(`${broken}:\\d+:\\d+: `));
    const after = (JSON.parse((await trellis(["get", "revisions", "-o", "json"], as(viewer))).stdout) as unknown[]).length;
    assert.equal(after, before, "nothing stored");
  });

  test("apply -f of a Gateway API HTTPRoute (mesh form): matches become routes, weighted backendRefs the split; other fields kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trellis-httproute-"));
    const route = [
      "apiVersion: gateway.networking.k8s.io/v1",
      "kind: HTTPRoute",
      "metadata:",
      "  name: payments-canary",
      "spec:",
      "  parentRefs:",
      '    - group: ""',
      "      kind: Service",
      "      name: payments",
      "  rules:",
      "    - matches:",
      "        - headers:",
      "            - name: x-canary",
      '              value: "1"',
      "        - path:",
      "            type: PathPrefix",
      "            value: /beta",
      "      backendRefs:",
      "        - name: payments-v2",
      "          port: 8080",
      "    - backendRefs:",
      "        - name: payments-v1",
      "          weight: 90",
      "        - name: payments-v2",
      "          weight: 10",
    ];
    writeFileSync(join(dir, "route.yaml"), `${route.join("\n")}\n`);
    const d = await trellis(["diff", "-f", dir], as(viewer));
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /[+~] routes: /);
    assert.doesNotMatch(d.stdout, /timeoutMs/);
    const a = await trellis(["apply", "-f", dir], as(operator));
    assert.equal(a.code, 0, a.stderr);
    const { policy } = JSON.parse((await trellis(["get", "policy", "payments", "-o", "json"], as(viewer))).stdout) as {
      policy: { routes: { match: unknown; version?: string }[]; split: unknown; timeoutMs: number };
    };
    assert.deepEqual(
      policy.routes.map((r) => [r.match, r.version]),
      [
        [{ headers: [{ name: "x-canary", value: "1" }] }, "v2"],
        [{ pathPrefix: "/beta" }, "v2"],
      ],
    );
    assert.deepEqual(policy.split, [
      { version: "v1", weight: 90 },
      { version: "v2", weight: 10 },
    ]);
    assert.equal(policy.timeoutMs, 2500, "an HTTPRoute sets routes and split only");
    const bad = join(dir, "bad-route.yaml");
    writeFileSync(bad, `${route.join("\n").replace("kind: Service", "kind: Gateway").replace("name: payments-v1", "name: orders-v1")}\n`);
    const r = await trellis(["apply", "-f", bad], as(operator));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${bad}:8:13: spec\\.parentRefs\\.0\\.kind: the parentRef must be a Service`));
  });

  test("check: files offline; console, token and agents live; a NACKED agent fails it (exit 1) by name and reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trellis-check-"));
    writeFileSync(join(dir, "ok.yaml"), "service: payments\npolicy:\n  timeoutMs: 1000\n");
    const offline = await trellis(["check", "-f", dir]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /√ 1 policy document\(s\) valid/);
    writeFileSync(join(dir, "bad.yaml"), "service: payments\npolicy:\n  timeoutMs: nope\n");
    const badFile = await trellis(["check", "-f", dir]);
    assert.equal(badFile.code, 1);
    assert.match(badFile.stdout, /× .*bad\.yaml:3:14: policy\.timeoutMs/);
    // A real agent: it asks for a certificate (the FakeAgents do not).
    const real = await startAgent({ service: "ledger", appPort: await freePort(), console: c.wsAgents, token: c.token });
    const good = await eventually(
      async () => {
        const r = await trellis(["check"], as(viewer));
        return r.code === 0 && /√ 1 agent certificate\(s\) valid/.test(r.stdout) && r;
      },
      10_000,
      "check passing with the real agent's certificate",
    );
    assert.match(good.stdout, /√ console reachable/);
    assert.match(good.stdout, /√ 3 agent\(s\) connected, all synced/);
    await real.stop();
    // An agent that refuses every snapshot (it is welcomed with the current version, then sent the next one).
    const nacker: FakeAgent = new FakeAgent(c.wsUrl, {
      service: "payments",
      version: "v1",
      token: c.token,
      address: "127.0.0.1:7103",
      autoAck: false,
      onFrame: (f) => {
        if (f.type === "snapshot")
          nacker.send({ type: "nack", version: f.version as number, nonce: f.nonce as string, error: "route table rejected" });
      },
    });
    agents.push(nacker);
    await nacker.connect();
    await nacker.nextSnapshot();
    // The hub records the NACK as it reads the frame.
    const failed = await eventually(
      async () => {
        const r = await trellis(["check"], as(viewer));
        return /NACKED/.test(r.stdout) && r;
      },
      5_000,
      "check reporting the NACK",
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, new RegExp(`× payments/${nacker.instanceId}: NACKED .*route table rejected`));
    nacker.close();
    const gone = await trellis(["check", "--console", "http://127.0.0.1:1", "--token", viewer]);
    assert.equal(gone.code, 1);
    assert.match(gone.stdout, /× console at http:\/\/127\.0\.0\.1:1 unreachable/);
  });

  test("the console and token from the config file; refusals exit 1 with the reason, wrong use exits 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trellis-cli-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ console: c.url, token: viewer }));
    const fromFile = await trellis(["get", "services"], { TRELLIS_CONFIG: join(dir, "config.json") });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const denied = await trellis(["split", "payments", "v1=50", "v2=50"], as(viewer));
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /403 needs the operator role/);
    const bad = await trellis(["status"], as("trl_not-a-token"));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /401 the API token is unknown, revoked or expired/);
    const invalid = await trellis(["split", "payments", "v1=50", "v2=60"], as(operator));
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /weights must sum to 100/);
    assert.equal((await trellis(["split", "payments", "v1:50"], as(operator))).code, 2);
    assert.equal((await trellis(["status"])).code, 2);
    assert.equal((await trellis(["frobnicate"], as(operator))).code, 2);
    assert.ok(!c.proc.output.join("\n").includes(operator), "the token value is never logged");
  });
});

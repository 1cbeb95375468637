/**
 * A real Prometheus server (Debian's `prometheus`) scrapes two agents' `/metrics`, and PromQL sees the mesh's request
 * rate by destination, and scrapes the console's own /metrics (from loopback: no token needed) for its agents and
 * telemetry frames per second. Also: the exposition passes `promtool check metrics`.
 *
 *   test --> agent(web) inbound --> caller app --> agent(web) outbound --> agent(catalog) inbound --> echo app
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, type ConsoleHandle, eventually, freePort, ProcessGroup, startConsole, stopAll, tempDir } from "@trellis/testkit";
import { type CallerApp, type EchoApp, request, startCatalogAndWeb } from "../support/apps.ts";

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
const PROMTOOL = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";

interface PromVector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe("Prometheus scrapes the agents", () => {
  let c: ConsoleHandle;
  let catalogApp: EchoApp;
  let webApp: CallerApp;
  let webAgent: AgentHandle;
  let catalogAgent: AgentHandle;
  let promPort = 0;
  let traffic: NodeJS.Timeout | null = null;

  before(async () => {
    assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is installed (Debian package prometheus; .ci/run installs it)`);
    c = await startConsole();
    ({ catalogApp, catalogAgent, webApp, webAgent } = await startCatalogAndWeb(c));
    await eventually(
      async () => (await request(webAgent.inbound, "/call/catalog/ping")).status === 200,
      10_000,
      "web reaches catalog through the mesh",
    );
  });

  after(async () => {
    if (traffic) clearInterval(traffic);
    await stopAll();
    await catalogApp?.close();
    await webApp?.close();
  });

  test("the agents' /metrics pass promtool check metrics", async () => {
    for (let i = 0; i < 5; i++) await request(webAgent.inbound, "/call/catalog/x");
    for (const agent of [webAgent, catalogAgent]) {
      const text = (await request(agent.admin, "/metrics")).body.toString();
      assert.match(text, /# TYPE requests_total counter/);
      assert.match(text, /# TYPE request_duration_seconds histogram/);
      const r = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
      assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}\n${r.stderr}`);
    }
  });

  test("a PromQL query for the request rate by destination returns the expected series", async () => {
    // Steady traffic: web → catalog (reported by web's agent) and ingress → catalog (reported by catalog's agent).
    traffic = setInterval(() => {
      void request(webAgent.inbound, "/call/catalog/items").catch(() => undefined);
      void request(catalogAgent.inbound, "/direct").catch(() => undefined);
    }, 50);
    promPort = await freePort();
    const dir = tempDir("prometheus");
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: trellis-agents",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${webAgent.admin}", "127.0.0.1:${catalogAgent.admin}"]`,
        "  - job_name: trellis-console",
        "    static_configs:",
        `      - targets: ["${new URL(c.url).host}"]`,
        "",
      ].join("\n"),
    );
    const prom = new ProcessGroup("prometheus", PROMETHEUS, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--storage.tsdb.retention.time=1h",
    ]);
    const query = async (q: string): Promise<PromVector> => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      return (await res.json()) as PromVector;
    };
    // Both agents are scraped…
    await eventually(
      async () => {
        const up = await query('up{job="trellis-agents"}');
        return up.data.result.length === 2 && up.data.result.every((r) => r.value[1] === "1");
      },
      30_000,
      `prometheus scrapes both agents (prometheus output: ${prom.output.slice(-5).join(" | ")})`,
    );
    // …and the rate by destination shows catalog, counted by both agents (web's outbound edge, catalog's ingress edge).
    const byDestination = await eventually(
      async () => {
        const r = await query("sum by (destination_service, source_service) (rate(requests_total[5s]))");
        const series = r.data.result.filter((x) => x.metric.destination_service === "catalog" && Number(x.value[1]) > 0);
        return series.length === 2 ? r : null;
      },
      30_000,
      "rate(requests_total) by destination has catalog series from web and from ingress",
    );
    assert.equal(byDestination.status, "success");
    const sources = byDestination.data.result
      .filter((x) => x.metric.destination_service === "catalog")
      .map((x) => x.metric.source_service)
      .sort();
    assert.deepEqual(sources, ["ingress", "web"]);
    const total = await query('sum by (destination_service) (rate(requests_total{destination_service="catalog"}[5s]))');
    assert.equal(total.data.result.length, 1);
    assert.ok(Number(total.data.result[0].value[1]) > 5, `catalog receives > 5 rps (got ${total.data.result[0].value[1]})`);
    // The latency histogram is usable for percentiles.
    const p99 = await query(
      'histogram_quantile(0.99, sum by (le, destination_service) (rate(request_duration_seconds_bucket{destination_service="catalog"}[5s])))',
    );
    assert.equal(p99.data.result.length, 1);
    assert.ok(Number.isFinite(Number(p99.data.result[0].value[1])));
    // The console's own metrics: both agents on this replica, and telemetry frames per second (one per agent).
    const agents = await eventually(
      async () => {
        const r = await query('trellis_console_agents_connected{job="trellis-console"}');
        return r.data.result.length === 1 ? r.data.result[0] : null;
      },
      30_000,
      "prometheus scrapes the console",
    );
    assert.equal(agents.value[1], "2");
    assert.ok(agents.metric.replica, "series carry the replica label");
    const frames = await eventually(
      async () => {
        const r = await query('sum(rate(trellis_console_telemetry_frames_total{job="trellis-console"}[10s]))');
        const v = Number(r.data.result[0]?.value[1]);
        return v >= 1.5 ? v : null;
      },
      30_000,
      "about one telemetry frame per agent per second at the console",
    );
    assert.ok(frames <= 4, `about one frame per agent per second (got ${frames})`);
    await prom.stop();
  });
});

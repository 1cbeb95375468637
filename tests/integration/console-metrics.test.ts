/**
 * The console's own /metrics (issue 11, scope 5) on a real console with real agents under load, a browser on the live
 * graph and one agent (the kit's FakeAgent: a real agent never gets a snapshot it would refuse) that NACKs: the text
 * passes the real `promtool check metrics` (Debian's prometheus package) and the values move as they should.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type AgentHandle, adminSession, type ConsoleHandle, eventually, FakeAgent, startConsole, stopAll } from "@trellis/testkit";
import WebSocket from "ws";
import { type CallerApp, type EchoApp, request, type SteadyLoad, startCatalogAndWeb, startLoad } from "../support/apps.ts";

const PROMTOOL = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";
const REPLICA = "replica-metrics-1";

/** `name{labels} value` lines → value by series, keyed `name{labels}` with the labels sorted (order is not meaningful). */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(seriesKey(line.slice(0, at)), Number(line.slice(at + 1)));
  }
  return series;
}

function seriesKey(series: string): string {
  const open = series.indexOf("{");
  if (open < 0) return series;
  const labels = series.slice(open + 1, -1).match(/[a-zA-Z_]\w*="(?:[^"\\]|\\.)*"/g) ?? [];
  return `${series.slice(0, open)}{${labels.sort().join(",")}}`;
}

describe("the console's /metrics", () => {
  let c: ConsoleHandle;
  let apps: (EchoApp | CallerApp)[] = [];
  let webAgent: AgentHandle;
  let load: SteadyLoad | null = null;
  let browser: WebSocket | null = null;

  const scrape = async () => {
    const res = await fetch(`${c.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const value = (text: string, series: string) => {
    const v = parse(text).get(seriesKey(series));
    assert.notEqual(v, undefined, `${series} is exposed`);
    return v as number;
  };

  before(async () => {
    assert.ok(existsSync(PROMTOOL), `${PROMTOOL} is installed (Debian package prometheus; npm test installs it)`);
    c = await startConsole({ env: { TRELLIS_REPLICA_ID: REPLICA } });
    const mesh = await startCatalogAndWeb(c);
    apps = [mesh.catalogApp, mesh.webApp];
    webAgent = mesh.webAgent;
    await eventually(async () => (await request(webAgent.admin, "/ready")).status === 200, 15_000, "web's agent ready");
  });

  after(async () => {
    browser?.terminate();
    await load?.stop();
    await stopAll();
    await Promise.all(apps.map((a) => a.close()));
  });

  test("passes promtool check metrics; agents, rounds, ACK latency, NACKs, telemetry frames, live sockets and database latency move", async () => {
    const r = `replica="${REPLICA}"`;
    load = startLoad(webAgent);
    await eventually(async () => load!.ok >= 20, 15_000, "load through the mesh");

    // A browser on the live graph (signed in, same origin).
    const admin = await adminSession(c.url);
    browser = new WebSocket(`${c.wsUrl}/ws/live`, { headers: { cookie: admin.cookie, origin: c.url } });
    await new Promise((resolve, reject) => {
      browser!.once("open", resolve);
      browser!.once("error", reject);
    });

    const first = await eventually(
      async () => {
        const text = await scrape();
        return value(text, `trellis_console_agents_connected{${r}}`) === 2 && value(text, `trellis_console_live_sockets{${r}}`) === 1 ? text : false;
      },
      10_000,
      "two agents and one browser counted",
    );
    const check = spawnSync(PROMTOOL, ["check", "metrics"], { input: first, encoding: "utf8" });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}\n${check.stderr}`);
    for (const family of [
      "trellis_console_agents_connected gauge",
      "trellis_console_push_rounds_total counter",
      "trellis_console_snapshot_ack_duration_seconds histogram",
      "trellis_console_snapshot_nacks_total counter",
      "trellis_console_telemetry_frames_total counter",
      "trellis_console_live_sockets gauge",
      "trellis_console_db_operation_duration_seconds histogram",
    ])
      assert.match(first, new RegExp(`^# TYPE ${family}$`, "m"));

    assert.ok(value(first, `trellis_console_push_rounds_total{${r}}`) >= 1, "push rounds counted");
    assert.ok(value(first, `trellis_console_config_version{${r}}`) >= 1);
    // Each agent acked at least its first snapshot: one ACK latency observation each, all within the histogram.
    const acks = value(first, `trellis_console_snapshot_ack_duration_seconds_count{${r}}`);
    assert.ok(acks >= 2, `ACK latency observations: ${acks}`);
    assert.equal(value(first, `trellis_console_snapshot_ack_duration_seconds_bucket{le="+Inf",${r}}`), acks);
    assert.ok(value(first, `trellis_console_snapshot_ack_duration_seconds_sum{${r}}`) > 0);
    assert.equal(value(first, `trellis_console_snapshot_nacks_total{${r}}`), 0);
    assert.ok(value(first, `trellis_console_db_operation_duration_seconds_count{${r}}`) > 0, "database operations timed");

    // Telemetry frames (one per agent per second) and database operations keep counting.
    const frames0 = value(first, `trellis_console_telemetry_frames_total{${r}}`);
    const db0 = value(first, `trellis_console_db_operation_duration_seconds_count{${r}}`);
    await eventually(
      async () => {
        const text = await scrape();
        return (
          value(text, `trellis_console_telemetry_frames_total{${r}}`) >= frames0 + 4 &&
          value(text, `trellis_console_db_operation_duration_seconds_count{${r}}`) > db0
        );
      },
      10_000,
      "telemetry frames and database operations counted",
    );

    // An agent that refuses its snapshot: one NACK counted; a config change then cuts a version: another round.
    const rounds0 = value(await scrape(), `trellis_console_push_rounds_total{${r}}`);
    const refusing = await new FakeAgent(c.wsUrl, { service: "refuser", token: c.token, autoAck: false }).connect();
    const snapshot = (await refusing.next((f) => f.type === "snapshot", 10_000, "snapshot for the refusing agent")) as {
      version: number;
      nonce: string;
    };
    refusing.send({ type: "nack", version: snapshot.version, nonce: snapshot.nonce, error: "refused on purpose by the test" });
    const afterNack = await eventually(
      async () => {
        const text = await scrape();
        return value(text, `trellis_console_snapshot_nacks_total{${r}}`) === 1 ? text : false;
      },
      10_000,
      "the NACK counted",
    );
    assert.equal(value(afterNack, `trellis_console_agents_connected{${r}}`), 3);
    // The joining agent got the current version at once; the membership round for its peers follows (≤ 1 s debounce).
    await eventually(async () => value(await scrape(), `trellis_console_push_rounds_total{${r}}`) > rounds0, 10_000, "the join ran a push round");

    // The browser leaves: the gauge follows.
    browser.close();
    await eventually(async () => value(await scrape(), `trellis_console_live_sockets{${r}}`) === 0, 10_000, "browser socket gone");
    const { failures } = await load.stop();
    load = null;
    assert.deepEqual(failures.slice(0, 3), []);
  });
});

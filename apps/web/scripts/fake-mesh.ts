/**
 * Drives a console with scripted agents (no real proxies): a few services join over /ws/agents, ack their snapshots and
 * report telemetry every second. For trying the console and the graph by hand:
 *   node --import tsx apps/web/scripts/fake-mesh.ts ws://127.0.0.1:3000 <join-token>
 */
import { type EdgeStats, emptyHistogram, observe, type StatusClass } from "@trellis/protocol";
import { FakeAgent } from "@trellis/testkit";

const [base = "ws://127.0.0.1:3000", token = process.env.TRELLIS_JOIN_TOKEN ?? ""] = process.argv.slice(2);

const instances: [string, string, number][] = [
  ["web", "v1", 7100],
  ["catalog", "v1", 7101],
  ["catalog", "v2", 7102],
  ["cart", "v1", 7103],
  ["payments", "v1", 7104],
  ["reviews", "v1", 7105],
];
// [source, sourceVersion, destination, destinationVersion, rps, error share, latency ms, mTLS]
const flows: [string, string, string, string, number, number, number, boolean][] = [
  ["ingress", "unknown", "web", "v1", 40, 0, 12, false],
  ["web", "v1", "catalog", "v1", 27, 0.002, 4, true],
  ["web", "v1", "catalog", "v2", 3, 0.03, 6, true],
  ["web", "v1", "cart", "v1", 10, 0, 3, true],
  ["cart", "v1", "payments", "v1", 4, 0.08, 40, true],
  ["catalog", "v1", "reviews", "v1", 20, 0, 2, false],
];

function edge(src: string, sv: string, dst: string, dv: string, n: number, errors: number, ms: number, mtls: boolean, sc: StatusClass): EdgeStats {
  const latency = emptyHistogram();
  for (let i = 0; i < n; i++) observe(latency, ms * (0.5 + Math.random()) * (Math.random() < 0.02 ? 4 : 1));
  return {
    source: src,
    sourceVersion: sv,
    destination: dst,
    destinationVersion: dv,
    statusClass: sc,
    requests: n,
    errors,
    bytesIn: n * 200,
    bytesOut: n * 900,
    mtls: mtls ? n : 0,
    latency,
  };
}

const agents = new Map<string, FakeAgent>();
for (const [service, version, port] of instances) {
  const a = new FakeAgent(base, { service, version, token, address: `127.0.0.1:${port}`, instanceId: `${service}-${version}-demo` });
  await a.connect();
  agents.set(`${service}@${version}`, a);
}
console.log(JSON.stringify({ msg: "fake mesh connected", agents: agents.size }));

setInterval(() => {
  const windowStart = (Math.floor(Date.now() / 1000) - 1) * 1000;
  const byReporter = new Map<FakeAgent, EdgeStats[]>();
  for (const [src, sv, dst, dv, rps, errShare, ms, mtls] of flows) {
    const reporter = src === "ingress" ? agents.get(`${dst}@${dv}`)! : agents.get(`${src}@${sv}`)!;
    const n = Math.max(0, Math.round(rps * (0.8 + Math.random() * 0.4)));
    const bad = Math.round(n * errShare + (Math.random() < (n * errShare) % 1 ? 1 : 0));
    const list = byReporter.get(reporter) ?? [];
    list.push(edge(src, sv, dst, dv, n - bad, 0, ms, mtls, "2xx"));
    if (bad > 0) list.push(edge(src, sv, dst, dv, bad, bad, ms * 2, mtls, "5xx"));
    byReporter.set(reporter, list);
  }
  for (const [a, edges] of byReporter) a.sendTelemetry({ windowStart, windowMs: 1000, edges, spans: [] });
}, 1000);

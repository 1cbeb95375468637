/** Pure: the HTTP/2 and gRPC results (bench/data-plane-h2.ts) → their targets and their BENCHMARKS.md section. */
import { f, mark, mmm, verdict } from "./format.ts";
import type { DataPlaneH2Result, H2PathSummary, H2Scenario, MedianMinMax, TargetVerdict } from "./results.ts";

export const H2_HEADING = "## HTTP/2 and gRPC";

const AGENTS_H2 = "agent → agent, --mesh-protocol h2";

/** The agents' path and nginx's in a scenario (the first path with agents; the path named nginx…). */
function agentsAndNginx(s: H2Scenario, agentsPath?: string): { agents?: H2PathSummary; nginx?: H2PathSummary } {
  return {
    agents: s.paths.find((p) => (agentsPath ? p.path === agentsPath : p.agentCpuPer1kRps !== undefined)),
    nginx: s.paths.find((p) => p.path.startsWith("nginx")),
  };
}

/** Median of the per-repeat ratios is not kept; the ratio of medians is what the page can say. */
function ratio(a: MedianMinMax | undefined, b: MedianMinMax | undefined): number | null {
  if (!a?.median || !b?.median || b.median <= 0) return null;
  return a.median / b.median;
}

/**
 * The issue 10 targets this part measures. `withHttp1Targets`: also the two-hop latency, CPU and RSS targets, from the
 * HTTP/1.1 scenario's HTTP/2-between-agents path (when the data plane part, which measures them too, did not run).
 */
export function h2Targets(r: DataPlaneH2Result, withHttp1Targets: boolean): TargetVerdict[] {
  const t: TargetVerdict[] = [];
  const g = r.grpcMax;
  t.push({
    id: "grpc-max",
    target: "gRPC unary max throughput through two agents ≥ 50% of nginx grpc_pass (same two hops)",
    measured: `${f((g.ratio.median ?? 0) * 100, 0)}% (${f(g.agentsRps.median, 0)} vs ${f(g.nginxRps.median, 0)} rps)`,
    met: verdict(g.ratio.median, 0.5, ">="),
    note: "",
  });
  const h1 = r.scenarios.find((s) => s.id === "http1-mesh-protocol");
  if (!withHttp1Targets || !h1) return t;
  const { agents, nginx } = agentsAndNginx(h1, AGENTS_H2);
  const note = "h2 part: HTTP/1.1 from the app, HTTP/2 between agents";
  t.push({
    id: "lat-p50",
    target: "two-hop added p50 at 1,000 rps ≤ 0.25 ms",
    measured: `${f(agents?.addedMs?.p50.median)} ms`,
    met: verdict(agents?.addedMs?.p50.median, 0.25),
    note,
  });
  t.push({
    id: "lat-p99",
    target: "two-hop added p99 at 1,000 rps ≤ 1.0 ms",
    measured: `${f(agents?.addedMs?.p99.median)} ms`,
    met: verdict(agents?.addedMs?.p99.median, 1.0),
    note,
  });
  const nginxP99 = nginx?.addedMs?.p99.median;
  const r99 = nginxP99 && nginxP99 > 0 ? (agents?.addedMs?.p99.median ?? Number.NaN) / nginxP99 : null;
  t.push({
    id: "lat-vs-nginx",
    target: "added p99 ≤ 2× nginx two-hop mTLS added p99",
    measured: r99 === null ? `n/a: nginx added p99 ${f(nginxP99)} ms ≤ 0 (noise)` : `${f(r99, 1)}× (nginx +${f(nginxP99)} ms)`,
    met: r99 === null ? null : verdict(r99, 2),
    note,
  });
  const cpu = agents?.agentCpuPer1kRps;
  t.push({
    id: "cpu",
    target: "agent CPU ≤ 0.15 vCPU per 1,000 rps",
    measured: `client ${f(cpu?.client.median, 3)}, server ${f(cpu?.server.median, 3)} vCPU`,
    met: verdict(Math.max(cpu?.client.median ?? Number.NaN, cpu?.server.median ?? Number.NaN), 0.15),
    note,
  });
  const rss = Math.max(...Object.values(r.agentPeakRssMb).map((x) => x ?? 0));
  t.push({
    id: "rss",
    target: "agent RSS ≤ 60 MB under 1,000 rps",
    measured: `peak ${f(rss, 0)} MB (VmHWM)`,
    met: verdict(rss, 60),
    note: "h2 part: highest of the four agents",
  });
  return t;
}

function scenarioTable(s: H2Scenario): string[] {
  const L = [
    `### ${s.title}`,
    "",
    `Load: ${s.client}. Median (min–max) over repeats; "added" = path − direct in the same repeat.`,
    "",
    "| path | p50 (ms) | p90 (ms) | p99 (ms) | added p50 | added p99 | requests/s | failed | agent CPU per 1,000 rps (client / server) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const p of s.paths) {
    const add = p.addedMs;
    const cpu = p.agentCpuPer1kRps;
    L.push(
      `| ${p.path} | ${mmm(p.latencyMs.p50, 3)} | ${mmm(p.latencyMs.p90, 3)} | ${mmm(p.latencyMs.p99, 3)} | ${add ? `+${mmm(add.p50, 3)}` : ""} | ${add ? `+${mmm(add.p99, 3)}` : ""} | ${mmm(p.rps, 0)} | ${p.errors}${p.unfinishedRuns ? ` (+${p.unfinishedRuns} run(s) not finished)` : ""} | ${cpu ? `${mmm(cpu.client, 3)} / ${mmm(cpu.server, 3)}` : ""} |`,
    );
  }
  const { agents, nginx } = agentsAndNginx(s);
  const r = ratio(agents?.addedMs?.p99, nginx?.addedMs?.p99);
  if (r !== null) L.push("", `Agents' added p99 ÷ nginx's: ${f(r, 1)}×.`);
  return L;
}

/** The HTTP/2 and gRPC section (heading included). */
export function renderDataPlaneH2(r: DataPlaneH2Result, date: string): string {
  const n = r.noise;
  const busy = n.loadavgBefore[0] > 2 || n.loadavgAfter[0] > 2 || (n.stealShare ?? 0) > 0.05;
  const L = [
    H2_HEADING,
    "",
    `Measured ${date} (bench/data-plane-h2.ts). One console, four agents: two clients (\`--mesh-protocol h2\`, the default, and \`http1\`) and two servers (bench-upstream → node:http answering ${r.params.responseBytes} B; bench-grpc → a @grpc/grpc-js server answering ${r.params.responseBytes} B to a ${r.params.grpcRequestBytes}-byte unary call), every agent hop mTLS STRICT via the console API. The gRPC path was checked with a real @grpc/grpc-js call through each path before it was measured. nginx's two hops: A accepts h2c and forwards with \`grpc_pass\` (nginx's only HTTP/2 upstream client) over TLS 1.3 with a client certificate to B (\`listen … ssl http2\`), which hands plain HTTP to the app as HTTP/1.1 (\`proxy_pass\`, as the inbound agent does) and gRPC as h2c (\`grpc_pass\`); one worker each, keep-alive upstreams.`,
    "",
    `Noise: load average ${n.loadavgBefore.map((x) => f(x, 1)).join(" / ")} before, ${n.loadavgAfter.map((x) => f(x, 1)).join(" / ")} after; ${n.stealShare === null ? "steal not read" : `${f(n.stealShare * 100, 1)}% of CPU time stolen by the hypervisor`}${busy ? " — **a busy, shared machine: noisy figures**" : ""}.`,
    "",
  ];
  for (const s of r.scenarios) L.push(...scenarioTable(s), "");
  const g = r.grpcMax;
  L.push("### Maximum gRPC unary throughput, two hops", "", `Load: ${g.client}.`, "", "| path | requests/s |", "|---|---|");
  L.push(`| direct to the gRPC server | ${mmm(g.directRps, 0)} |`);
  L.push(`| agent → agent (h2, mTLS) | ${mmm(g.agentsRps, 0)} |`);
  L.push(`| nginx → nginx (grpc_pass, mTLS) | ${mmm(g.nginxRps, 0)} |`);
  L.push(`| agents / nginx | ${mmm(g.ratio, 0, 100)} % |`);
  const cpu = (xs: number[][]) => xs.map((c) => c.map((x) => f(x, 2)).join(" + ")).join("; ");
  L.push(
    "",
    `CPU while at maximum (vCPU, client + server per repeat): agents ${cpu(g.runs.map((x) => x.agentsCpu))}; nginx workers ${cpu(g.runs.map((x) => x.nginxCpu))}. Failed requests: agents ${g.runs.reduce((s, x) => s + x.agentsErrors, 0)}, nginx ${g.runs.reduce((s, x) => s + x.nginxErrors, 0)}.`,
  );
  L.push(
    "",
    `Agent RSS at rest ${Object.entries(r.agentAtRestRssMb)
      .map(([k, v]) => `${k} ${f(v, 0)}`)
      .join(", ")} MB; peak (VmHWM) ${Object.entries(r.agentPeakRssMb)
      .map(([k, v]) => `${k} ${f(v, 0)}`)
      .join(", ")} MB.`,
  );
  const t = h2Targets(r, false)[0];
  L.push("", `Target ${t.target}: ${t.measured} — ${mark(t.met)}.`);
  return L.join("\n");
}

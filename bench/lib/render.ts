/** Pure: results JSON → target verdicts and the BENCHMARKS.md text. Unit-tested in bench/test. */

import { f, mark, mmm, verdict } from "./format.ts";
import { H2_HEADING, h2Targets, renderDataPlaneH2 } from "./render-h2.ts";
import type { BenchResults, DataPlaneResult, JoinResult, Machine, TargetVerdict } from "./results.ts";

export { H2_HEADING, mmm };

/** Each target: what it asks, the measured figure, met (true/false/null = not measured), and a note. */
export function evaluateTargets(r: BenchResults): TargetVerdict[] {
  const t: TargetVerdict[] = [];
  const dp = r.dataPlane;
  const mtlsNote = dp && !dp.mtls?.enabled ? "mTLS: not yet available — measured over plaintext agent hops" : "";
  if (dp) {
    const a = dp.latency.meshAddedMs;
    t.push({
      id: "lat-p50",
      target: "two-hop added p50 at 1,000 rps ≤ 0.25 ms",
      measured: `${f(a.p50.median)} ms`,
      met: verdict(a.p50.median, 0.25),
      note: mtlsNote,
    });
    t.push({
      id: "lat-p99",
      target: "two-hop added p99 at 1,000 rps ≤ 1.0 ms",
      measured: `${f(a.p99.median)} ms`,
      met: verdict(a.p99.median, 1.0),
      note: mtlsNote,
    });
    t.push({
      id: "lat-vs-nginx",
      target: "added p99 ≤ 2× nginx two-hop mTLS added p99",
      measured:
        dp.latency.p99RatioToNginx.median === null
          ? `n/a: nginx added p99 ${f(dp.latency.nginxAddedMs.p99.median)} ms ≤ 0 (noise); agent +${f(dp.latency.meshAddedMs.p99.median)} ms`
          : `${f(dp.latency.p99RatioToNginx.median, 1)}× (nginx +${f(dp.latency.nginxAddedMs.p99.median)} ms)`,
      met: verdict(dp.latency.p99RatioToNginx.median, 2),
      note: mtlsNote,
    });
    t.push({
      id: "throughput",
      target: "one agent's max throughput ≥ 35% of one nginx worker",
      measured: `${f((dp.throughput.ratio.median ?? 0) * 100, 0)}% (${f(dp.throughput.agentRps.median, 0)} vs ${f(dp.throughput.nginxRps.median, 0)} rps)`,
      met: verdict(dp.throughput.ratio.median, 0.35, ">="),
      note: "",
    });
    const cpu = Math.max(dp.agentCpu.client.median ?? 0, dp.agentCpu.server.median ?? 0);
    t.push({
      id: "cpu",
      target: "agent CPU ≤ 0.15 vCPU per 1,000 rps",
      measured: `client ${f(dp.agentCpu.client.median, 3)}, server ${f(dp.agentCpu.server.median, 3)} vCPU`,
      met: verdict(cpu, 0.15),
      note: "",
    });
    const rss = Math.max(dp.agentPeakRssMb.client ?? 0, dp.agentPeakRssMb.server ?? 0);
    t.push({ id: "rss", target: "agent RSS ≤ 60 MB under 1,000 rps", measured: `peak ${f(rss, 0)} MB (VmHWM)`, met: verdict(rss, 60), note: "" });
  }
  const cp = r.controlPlane;
  if (cp) {
    for (const [n, limit] of [
      [100, 100],
      [1000, 1000],
    ]) {
      const p = cp.push.find((x) => x.agents === n) ?? cp.pushErrors?.find((x) => x.agents === n);
      t.push({
        id: `push-${n}`,
        target: `config push p99 ≤ ${limit >= 1000 ? "1 s" : `${limit} ms`} at ${n.toLocaleString("en")} agents`,
        measured: p?.p99Ms ? `${f(p.p99Ms.median, 0)} ms` : p?.error ? `failed: ${p.error}` : "not run",
        met: p?.p99Ms ? verdict(p.p99Ms.median, limit) : null,
        note: p?.kind && p.kind !== "split change" ? `measured as ${p.kind} → last ACK (split API: issue 3)` : "",
      });
    }
    const tel = cp.telemetry;
    t.push({
      id: "telemetry",
      target: "telemetry from 1,000 agents ≤ 50% of one core",
      measured: tel ? `${f(tel.busyCores * 100, 1)}% of a core` : "not run",
      met: tel ? verdict(tel.busyCores, 0.5) : null,
      note:
        tel && tel.framesPerSocketPerSecond > 1
          ? `${tel.framesPerSecond} frames/s from ${tel.telemetryAgents} sockets (${tel.framesPerSocketPerSecond} per socket)`
          : "",
    });
    const g = (n: number) => cp.graph.filter((x) => x.services === n).at(-1);
    const g1k = g(1000);
    const g200 = g(200);
    t.push({
      id: "graph-1k-render",
      target: "graph of 1,000 services renders ≤ 2 s",
      measured: g1k ? `${f(g1k.firstRenderMs / 1000)} s` : "not run",
      met: g1k ? verdict(g1k.firstRenderMs, 2000) : null,
      note: g1k ? `fed by ${g1k.source}` : "",
    });
    t.push({
      id: "graph-1k-update",
      target: "one-second update at 1,000 services ≤ 50 ms",
      measured: g1k ? `${f(g1k.updateApplyMs.median, 1)} ms (to next frame ${f(g1k.updateToFrameMs.median, 1)} ms)` : "not run",
      met: g1k ? verdict(g1k.updateApplyMs.median, 50) : null,
      note: "",
    });
    t.push({
      id: "graph-200-update",
      target: "one-second update at 200 services ≤ 16 ms",
      measured: g200 ? `${f(g200.updateApplyMs.median, 1)} ms (to next frame ${f(g200.updateToFrameMs.median, 1)} ms)` : "not run",
      met: g200 ? verdict(g200.updateApplyMs.median, 16) : null,
      note: "",
    });
  }
  if (r.dataPlaneH2) t.push(...h2Targets(r.dataPlaneH2, !dp));
  if (r.join) t.push(joinTarget(r.join));
  return t;
}

/** The join target: the slowest case's median (cold or rejoin, any database) against 10 s at 1,000 agents. */
export function joinTarget(j: JoinResult): TargetVerdict {
  const target = `${j.params.agents.toLocaleString("en")} agents (re)join one console ≤ 10 s`;
  const measured = j.cases.filter((c) => c.lastS.median !== null);
  if (measured.length === 0)
    return { id: "join", target, measured: j.errors.length ? `failed: ${j.errors[0].error}` : "not run", met: null, note: "" };
  const worst = measured.reduce((a, b) => ((b.lastS.median ?? 0) > (a.lastS.median ?? 0) ? b : a));
  return {
    id: "join",
    target,
    measured: `${f(worst.lastS.median, 1)} s (${worst.database}, ${worst.case}; slowest case)`,
    met: j.params.agents >= 1000 ? verdict(worst.lastS.median, 10) : null,
    note: j.params.agents >= 1000 ? "" : `only ${j.params.agents} agents (quick run)`,
  };
}

export const JOIN_HEADING = "## Agents joining";

/** The join section (heading included). */
export function renderJoin(j: JoinResult, date: string, machine?: Pick<Machine, "cpus" | "loadavg">): string {
  const t = joinTarget(j);
  const L = [
    JOIN_HEADING,
    "",
    `Measured ${date} (bench/join.ts). ${j.params.agents.toLocaleString("en")} simulated agents (${j.params.simWorkers} worker processes, ${j.params.services} services × 2 versions) connect to one console at once, no backoff or stagger (the burst at its worst): hello with the join token, a CSR of the agent's own ECDSA key answered by a certificate, the first snapshot acked. Time until the last / half of them are joined, from the first connect, and the console's CPU seconds over that time. **cold**: a fresh console and database; **rejoin**: the same console restarted on its data, its agents back at once, each resuming from the version it held. Median (min–max) over ${j.params.repeats} repeat(s); keys and CSRs are made before the clock starts. The simulated agents run on the same 2 cores as the console.`,
    ...(machine
      ? [
          "",
          `Load average at start ${machine.loadavg.map((x) => f(x, 1)).join(" / ")} on ${machine.cpus} cores${machine.loadavg[0] > machine.cpus ? ": a busy, shared machine — noisy figures, slower than on a quiet one" : ""}.`,
        ]
      : []),
    "",
    "| database | case | agents | last joined (s) | half joined (s) | console CPU (s) | connected after |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const c of j.cases)
    L.push(
      `| ${c.database} | ${c.case} | ${c.agents} | ${mmm(c.lastS, 2)} | ${mmm(c.p50S, 2)} | ${mmm(c.consoleCpuS, 2)} | ${c.connectedAfter?.join(", ") ?? "—"} |`,
    );
  for (const e of j.errors) L.push(`| ${e.database} | — | — | failed: ${e.error} | | | |`);
  L.push("", `Target ${t.target}: ${t.measured} — ${mark(t.met)}${t.note ? ` (${t.note})` : ""}.`);
  return L.join("\n");
}

/** `md` with its `heading` section (up to the next `## `) replaced by `section`, or `section` added before `before`. */
export function spliceSection(md: string, heading: string, section: string, before = "## Optimisations behind these figures"): string {
  const lines = md.split("\n");
  const start = lines.indexOf(heading);
  const body = section.trimEnd().split("\n");
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
    if (end < 0) end = lines.length;
    return [...lines.slice(0, start), ...body, ...(end < lines.length ? ["", ...lines.slice(end)] : [""])].join("\n");
  }
  const at = lines.indexOf(before);
  if (at < 0) return `${md.trimEnd()}\n\n${body.join("\n")}\n`;
  return [...lines.slice(0, at), ...body, "", ...lines.slice(at)].join("\n");
}

/**
 * `md` with the target rows of `verdicts` replaced (matched by their target text, padding ignored) or added at the end
 * of the targets table: a partial run updates what it measured and leaves the other rows (and unmeasured ones) as they were.
 */
export function spliceTargets(md: string, verdicts: TargetVerdict[]): string {
  const lines = md.split("\n");
  const head = lines.indexOf("## Targets");
  if (head < 0) return md;
  let end = head + 1;
  while (end < lines.length && !lines[end].startsWith("|")) end++;
  while (end < lines.length && lines[end].startsWith("|")) end++;
  for (const v of verdicts) {
    if (v.met === null) continue; // not measured in this run: the older figure stays
    const row = targetRow(v);
    const at = lines.findIndex((l, i) => i > head && i < end && l.split("|")[1]?.trim() === v.target);
    if (at >= 0) lines[at] = row;
    else lines.splice(end++, 0, row);
  }
  return lines.join("\n");
}

const targetRow = (t: TargetVerdict) => `| ${t.target} | ${t.measured} | ${mark(t.met)} | ${t.note} |`;

export const NOTES_HEADING = "## Optimisations behind these figures";

/** BENCHMARKS.md after a run of some parts only: their sections and target rows replaced, the rest kept; the notes
 * (bench/notes.md, from its first heading to the end of the page) replaced by the current ones when given. */
export function renderPartial(md: string, r: BenchResults, notes = ""): string {
  let out = spliceTargets(md, evaluateTargets(r));
  const at = notes ? out.indexOf(`\n${NOTES_HEADING}\n`) : -1;
  if (at >= 0) out = `${out.slice(0, at + 1)}${notes.trim()}\n`;
  if (r.dataPlane) out = spliceSection(out, DATA_PLANE_HEADING, renderDataPlane(r.dataPlane, r.date));
  if (r.dataPlaneH2) out = spliceSection(out, H2_HEADING, renderDataPlaneH2(r.dataPlaneH2, r.date));
  if (r.join) out = spliceSection(out, JOIN_HEADING, renderJoin(r.join, r.date, r.machine));
  return out;
}

export const DATA_PLANE_HEADING = "## Data plane";

/** The data plane section (heading included). */
export function renderDataPlane(dp: DataPlaneResult, date?: string): string {
  const L: string[] = [];
  const p = dp.params;
  L.push(DATA_PLANE_HEADING, "");
  if (date) L.push(`Measured ${date} (a run of the data plane part alone; the rest of this page is older).`, "");
  L.push(
    `Upstream: node:http returning ${p.responseBytes} B. Load: bench/lib/loadgen.ts (open loop, ${p.rate} rps spread evenly over ${p.connections} keep-alive connections, ${p.requests.toLocaleString("en")} measured requests after ${p.warmup} warm-up, latency from the *intended* send time — coordinated omission corrected — µs resolution, separate process), ${p.repeats} repeat(s), paths interleaved in each repeat; "added" = path − direct in the same repeat. Median (min–max) over repeats.`,
  );
  L.push(
    `Mesh path: client agent → server agent, both connected to a real console (telemetry on); ${dp.mtls?.enabled ? `server mTLS STRICT via \`${dp.mtls.procedure}\`` : `**${dp.mtls?.label ?? "mTLS: not yet available"}** (${dp.mtls?.reason ?? ""}) — the agent hops are plaintext, nginx's are mutual TLS 1.3`}.`,
  );
  L.push(
    "nginx path: nginx A → TLS 1.3 with client certificate (throwaway CA from openssl, verified on hop B) → nginx B → upstream, keep-alive upstreams, one worker each.",
  );
  L.push("");
  L.push("| latency at 1,000 rps (ms) | p50 | p90 | p99 |");
  L.push("|---|---|---|---|");
  const lat = dp.latency;
  L.push(`| direct | ${mmm(lat.directMs.p50, 3)} | ${mmm(lat.directMs.p90, 3)} | ${mmm(lat.directMs.p99, 3)} |`);
  L.push(`| agent → agent, added | +${mmm(lat.meshAddedMs.p50, 3)} | +${mmm(lat.meshAddedMs.p90, 3)} | +${mmm(lat.meshAddedMs.p99, 3)} |`);
  L.push(`| nginx → nginx (mTLS), added | +${mmm(lat.nginxAddedMs.p50, 3)} | +${mmm(lat.nginxAddedMs.p90, 3)} | +${mmm(lat.nginxAddedMs.p99, 3)} |`);
  L.push(
    "",
    `Errors / non-2xx over all latency runs: ${lat.errors}. Telemetry of the mesh edge as the console saw it: ${dp.meshEdge ? `${f(dp.meshEdge.rps, 0)} rps over its window, p99 ${f(dp.meshEdge.p99Ms, 1)} ms, mTLS share ${f((dp.meshEdge.mtlsShare ?? 0) * 100, 0)}%` : "—"}.`,
  );
  const tp = dp.throughput;
  L.push("", `| max throughput (wrk -t1 -c16, ${p.wrkSeconds} s) | requests/s |`, "|---|---|");
  L.push(`| direct to the upstream | ${mmm(tp.directRps, 0)} |`);
  L.push(`| one agent (outbound → upstream, standalone snapshot) | ${mmm(tp.agentRps, 0)} |`);
  L.push(`| one nginx worker → upstream | ${mmm(tp.nginxRps, 0)} |`);
  L.push(`| agent / nginx | ${mmm(tp.ratio, 0, 100)} % |`);
  L.push(`| agent CPU per request ÷ nginx's | ${mmm(tp.agentCpuPerReqRatio, 1)}× |`);
  L.push("");
  L.push(
    `Agents at 1,000 rps: CPU per 1,000 rps client ${mmm(dp.agentCpu.client, 3)} / server ${mmm(dp.agentCpu.server, 3)} vCPU (from /proc/<pid>/stat utime+stime); RSS at rest ${dp.agentAtRest.map((a) => f(a.rssMb, 0)).join(" / ")} MB, peak (VmHWM) ${f(dp.agentPeakRssMb.client, 0)} / ${f(dp.agentPeakRssMb.server, 0)} MB.`,
  );
  const profile = dp.profile && "top" in dp.profile ? dp.profile : null;
  if (profile?.top) {
    L.push(
      "",
      `### Agent profile at 1,000 rps (\`node --cpu-prof\`, outbound → upstream, ${f(profile.busySeconds, 2)} s busy of ${f(profile.sampledSeconds, 1)} s sampled after start-up)`,
      "",
    );
    L.push(`By area: ${profile.areas.map((a) => `${a.area} ${a.pct}%`).join(", ")}.`, "");
    L.push("| self time | function |", "|---|---|");
    for (const x of profile.top.slice(0, 12)) L.push(`| ${x.pct}% | \`${x.fn.trim()}\` |`);
  }
  return L.join("\n");
}

export function renderMarkdown(r: BenchResults, notes = ""): string {
  const L: string[] = [];
  const m = r.machine;
  L.push("# Benchmarks");
  L.push("");
  L.push(`Generated by \`npm run bench${r.quick ? " -- --quick" : ""}\` (bench/run.ts) on ${r.date}; raw results: \`bench/results/${r.file}\`.`);
  if (r.quick)
    L.push(
      "",
      "> **Quick run on a busy, shared machine** (other engineers' builds and tests were running). Figures are indicative only; the full run on a quiet machine replaces this page.",
    );
  L.push("");
  L.push("## Machine and versions");
  L.push("");
  L.push(`${m.cpus} × ${m.cpuModel}, ${f(m.memGb, 0)} GB RAM, ${m.kernel}; load average at start ${m.loadavg.map((x) => f(x, 2)).join(" / ")}.`);
  L.push(`Node ${m.node}, nginx ${m.nginx}, wrk ${m.wrk}, chromium ${m.chromium}, OpenSSL ${m.openssl}; trellis ${m.git}.`);
  L.push("");
  L.push("## Targets");
  L.push("");
  L.push("| target | measured (median) | verdict | note |");
  L.push("|---|---|---|---|");
  for (const t of evaluateTargets(r)) L.push(targetRow(t));
  if (r.dataPlane) L.push("", renderDataPlane(r.dataPlane));
  if (r.dataPlaneH2) L.push("", renderDataPlaneH2(r.dataPlaneH2, r.date));
  const cp = r.controlPlane;
  if (cp) {
    L.push("", "## Control plane", "");
    L.push(
      `Simulated agents (bench/lib/sim-agents.ts, ${cp.params.simWorkers} worker processes) speak the real protocol over real websockets to a real console: hello with the join token, ack of every snapshot, telemetry frames. A round: wait until every agent holds the console's version, commit one change, time each agent's ACK of the new version from the commit; ${cp.params.pushRounds} rounds per size, median (min–max) over rounds.`,
    );
    L.push("", "| agents | change | p50 (ms) | p99 (ms) | last ACK (ms) |", "|---|---|---|---|---|");
    for (const p of cp.push) {
      if (p.error) L.push(`| ${p.agents} | — | failed: ${p.error} | | |`);
      else L.push(`| ${p.agents} | ${p.kind} | ${mmm(p.p50Ms, 1)} | ${mmm(p.p99Ms, 1)} | ${mmm(p.lastMs, 1)} |`);
    }
    if (cp.joinSeconds)
      L.push(
        "",
        `Joining (all agents hello, each acks its first snapshot): ${Object.entries(cp.joinSeconds)
          .map(([n, s]) => `to ${n} agents ${f(s, 1)} s`)
          .join(", ")}.`,
      );
    const tel = cp.telemetry;
    if (tel)
      L.push(
        "",
        `Console CPU: ${f(tel.idleCores * 100, 1)}% of a core with ${tel.agents} agents connected and idle; ${f(tel.busyCores * 100, 1)}% with ${tel.framesPerSecond} telemetry frames/s of ${tel.edgesPerFrame} edges (${tel.framesPerSocketPerSecond} per socket from ${tel.telemetryAgents} sockets) over ${f(tel.seconds, 0)} s. Console RSS ${f(tel.consoleRssMb, 0)} MB (peak ${f(tel.consoleHwmMb, 0)} MB).`,
      );
    L.push("", "## Console graph (headless chromium)", "");
    L.push(
      "First render = navigation start → first live frame applied and the next animation frame (measured in the page). Update = one `/ws/live` frame (one second of telemetry) applied: `window.__trellisGraph.applies[].ms` (diff + cytoscape batch, recorded by ServiceGraph.tsx) and until the next animation frame (`toFrameMs`, includes cytoscape's redraw). Frames that re-ran the layout are excluded from updates.",
    );
    L.push(
      "",
      "| services | fed by | nodes / edges | first render (ms) | first apply (ms) | update apply (ms) | update → next frame (ms) | frames |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const g of cp.graph)
      L.push(
        `| ${g.services} | ${g.source} | ${g.nodes} / ${g.edges} | ${f(g.firstRenderMs, 0)} | ${f(g.firstApplyMs, 0)} | ${f(g.updateApplyMs.median, 1)} (${f(g.updateApplyMs.min, 1)}–${f(g.updateApplyMs.max, 1)}) | ${f(g.updateToFrameMs.median, 1)} (${f(g.updateToFrameMs.min, 1)}–${f(g.updateToFrameMs.max, 1)}) | ${g.updates} |`,
      );
  }
  if (r.join) L.push("", renderJoin(r.join, r.date, r.machine));
  if (notes) L.push("", notes.trim());
  L.push("");
  return L.join("\n");
}

/** CHAOS.md: the targets, each marked met or not with its figure, the machine's noise, and the evidence for misses. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Target } from "./faults.ts";
import type { Window } from "./timeline.ts";

export interface Outcome {
  name: string;
  target: Target;
  detail: string;
  /** Requests sent from the fault's start to 5 s after it ended. */
  window: Window;
  windowS: number;
  /** Data-plane recovery from the fault's start (instant faults) or end (lasting ones); null: not within the observation. */
  recoveryMs: number | null;
  recoveryFrom: "start" | "end";
  /** Control plane: from the fault's end until every agent was connected and SYNCED again (operator view). */
  resyncMs: number | null;
  operator: string;
  /** Agent/app log lines (warn and above) of the instance involved, during the window. */
  evidence: string[];
  error?: string;
}

export interface Machine {
  cores: number;
  loadBefore: number[];
  loadAfter: number[];
  /** CPU steal over the run, share of CPU time (from /proc/stat). */
  stealPct: number | null;
  busyPct: number | null;
  rps: number;
  baseline: Window;
  durationS: number;
  startedAt: string;
}

const TARGETS: Record<Target, { label: string; min: number } | null> = {
  kill: { label: "≥ 99.9% success", min: 0.999 },
  "console-down": { label: "100% success", min: 1 },
  none: null,
};
const RECOVERY_TARGET_MS = 5_000;
const NOTES_MARKER = "<!-- notes: kept across runs -->";

const pct = (r: number | null) => (r === null ? "–" : `${(Math.floor(r * 10000) / 100).toFixed(2)}%`);
const secs = (ms: number | null) => (ms === null ? "not recovered" : `${(ms / 1000).toFixed(2)} s`);

function failures(w: Window): string {
  const top = Object.entries(w.failures)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  return top.length ? top.map(([why, n]) => `${n}× \`${why}\``).join(", ") : "none";
}

export function writeReport(file: string, outcomes: Outcome[], m: Machine): { met: number; missed: number } {
  let met = 0;
  let missed = 0;
  const rows: string[] = [];
  for (const o of outcomes) {
    const t = TARGETS[o.target];
    let successCell = `${pct(o.window.rate)} (${o.window.ok}/${o.window.sent})`;
    if (t) {
      const ok = o.window.rate !== null && o.window.rate >= t.min && !o.error;
      ok ? met++ : missed++;
      successCell += ` — ${t.label}: **${ok ? "met" : "NOT met"}**`;
    } else successCell += " — no target (reported)";
    const recOk = o.recoveryMs !== null && o.recoveryMs <= RECOVERY_TARGET_MS && !o.error;
    recOk ? met++ : missed++;
    const rec = `${secs(o.recoveryMs)} from the fault's ${o.recoveryFrom} — ≤ 5 s: **${recOk ? "met" : "NOT met"}**`;
    rows.push(
      `| ${o.name} | ${o.windowS.toFixed(1)} s | ${successCell} | ${rec} | ${o.resyncMs === null ? "not within the observation" : secs(o.resyncMs)} |`,
    );
  }
  const details = outcomes.map((o) =>
    [
      `### ${o.name}`,
      "",
      `- Fault: ${o.detail}${o.error ? ` — **the fault run failed: ${o.error}**` : ""}`,
      `- Requests sent in the window: ${o.window.sent}, failed ${o.window.sent - o.window.ok}: ${failures(o.window)}${o.window.appRefusals ? `; the apps' own 4xx answers (not failures): ${o.window.appRefusals}` : ""}`,
      `- What the operator saw (console agents page + live graph, polled every second): ${o.operator}`,
      ...(o.evidence.length ? ["- Logs of the instance involved (warn and above, during the window):", "", "```", ...o.evidence, "```"] : []),
      "",
    ].join("\n"),
  );
  let notes = "";
  if (existsSync(file)) {
    const old = readFileSync(file, "utf8");
    const i = old.indexOf(NOTES_MARKER);
    if (i >= 0) notes = old.slice(i + NOTES_MARKER.length).trim();
  }
  const text = `# Chaos run

Written by \`npm run chaos\` (chaos/run.ts) on ${m.startedAt}, in ${Math.round(m.durationS)} s. It starts the console and the demo
shop (every instance with its real agent, supervised by the shop's own launcher), applies retries and outlier
detection to every service through the console's API (the "retries + ejection" the targets presume; the demo's seed
has none), sends a steady ${m.rps} rps of the shop's load mix to the web agent's inbound port, and then runs the faults one
after another, waiting between them until every agent is connected and SYNCED again and traffic is clean.

- **Success** counts every request _sent_ from the fault's start until 5 s after it was over (a killed process back
  and ready, the console answering again, the spike ended). Failures are 5xx, proxy-made errors and socket errors
  (the load generator's timeout is 10 s); the apps' own 4xx answers (409 out of stock) are not failures and are
  counted apart. payments is routed 100% to v1 for the run: v2 is the demo's canary that fails 4% of its charges by
  design, which would blur every window.
- **Recovery** is the time from the fault (its start for a kill, its end for a fault that lasts) to the last failed
  request sent, given that the following 3 s were clean; 0 when nothing failed.
- **Resync** is the control plane: from the fault's end until the console's agents page showed every agent connected
  and SYNCED again.

Baseline before the faults: ${pct(m.baseline.rate)} (${m.baseline.ok}/${m.baseline.sent}); failures: ${failures(m.baseline)}.

## Targets

${met} met, ${missed} not met.

| fault | window | success in the window | data-plane recovery | control-plane resync |
|---|---|---|---|---|
${rows.join("\n")}

## The machine (noise)

A shared, loaded VM: ${m.cores} cores, load average ${m.loadBefore.map((l) => l.toFixed(2)).join(" / ")} before the run and
${m.loadAfter.map((l) => l.toFixed(2)).join(" / ")} after it (1/5/15 min); over the run the CPUs were ${m.busyPct === null ? "?" : `${m.busyPct.toFixed(0)}%`} busy and
${m.stealPct === null ? "?" : `${m.stealPct.toFixed(1)}%`} of CPU time was stolen by the hypervisor. The console, 9 apps, 9 agents, the launcher and the
load generator share those cores with whatever else runs on the machine: latencies and recovery times here are upper
bounds of what the code does, and a miss can be the machine's. Runs are not comparable across machines.

## Each fault

${details.join("\n")}
${NOTES_MARKER}
${notes}
`;
  writeFileSync(file, text);
  return { met, missed };
}

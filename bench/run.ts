/**
 * `npm run bench [-- --quick] [-- --only data,control,join] [-- --render <results.json>]`: runs the data-plane, control-plane and console
 * benchmarks against references started in this run, and the join of a whole fleet; writes bench/results/<date>.json and
 * regenerates BENCHMARKS.md (with bench/notes.md appended: the analysis of what limits each figure). A run of some
 * parts (`--only h2,join`) writes bench/results/<date>-h2-join.json and replaces only their sections and target rows.
 * Installs nginx / wrk / nghttp2-client from Debian when missing (scripts/system-packages.mjs: as root or via sudo -n,
 * else it stops with the command to run). Every process it starts is stopped at the end.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CHROMIUM, repoRoot, stopAll } from "@trellis/testkit";
import { ensureSystemPackages } from "../scripts/system-packages.mjs";
import { controlPlaneAndConsole } from "./control-plane.ts";
import { dataPlane } from "./data-plane.ts";
import { dataPlaneH2 } from "./data-plane-h2.ts";
import { joinScenario } from "./join.ts";
import { versionOf } from "./lib/procs.ts";
import { evaluateTargets, renderMarkdown, renderPartial } from "./lib/render.ts";
import { type BenchConfig, type BenchResults, type Log, type Machine, messageOf, stackOf } from "./lib/results.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", default: "data,h2,control,join" },
    "no-write": { type: "boolean", default: false },
    /** Skips the turbo build (when the caller knows the build is current, e.g. only server sources run by tsx changed). */
    "no-build": { type: "boolean", default: false },
    /** The join scenario's databases and repeats (default: sqlite,postgres and 3; quick: sqlite and 1). */
    "join-databases": { type: "string" },
    "join-repeats": { type: "string" },
    /** Re-renders BENCHMARKS.md from a results file (e.g. after editing bench/notes.md) without measuring. */
    render: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`npm run bench [-- options]   (node --import tsx bench/run.ts [options])
  --quick              a short run (indicative figures): fewer requests, repeats and agents
  --only data,h2,control,join  which parts to run (default all; h2 = HTTP/2 and gRPC; control includes the console
                       graph; a partial run replaces only its sections and target rows in BENCHMARKS.md)
  --no-write           do not write bench/results/<date>.json nor BENCHMARKS.md
  --no-build           do not run the turbo build first
  --join-databases sqlite,postgres  --join-repeats N   narrow the join scenario
  --render <file>      re-render BENCHMARKS.md from a results file (with bench/notes.md) without measuring (the
                       sections of a partial results file only)
  --help, -h           this text`);
  process.exit(0);
}
const notesFile = join(repoRoot, "bench/notes.md");
/** `npm run check` formats Markdown too: the page is written as Biome would format it. */
const formatPage = () => execFileSync("npx", ["biome", "format", "--write", "BENCHMARKS.md"], { cwd: repoRoot, stdio: "ignore", timeout: 60_000 });
const notes = () => (existsSync(notesFile) ? readFileSync(notesFile, "utf8") : "");
if (values.render) {
  const r = JSON.parse(readFileSync(values.render, "utf8")) as BenchResults;
  const md = join(repoRoot, "BENCHMARKS.md");
  const whole = r.dataPlane && r.dataPlaneH2 && r.controlPlane && r.join;
  writeFileSync(md, whole || !existsSync(md) ? renderMarkdown(r, notes()) : renderPartial(readFileSync(md, "utf8"), r, notes()));
  formatPage();
  console.log(`BENCHMARKS.md rendered from ${values.render}`);
  process.exit(0);
}
const quick = values.quick;
const only = new Set(values.only.split(","));
const t0 = Date.now();
const log: Log = (m) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${m}`);

const cfg: BenchConfig = quick
  ? {
      data: { rate: 1000, requests: 10_000, warmup: 1000, repeats: 1, wrkSeconds: 4, profileRequests: 3000 },
      h2: { rate: 1000, seconds: 8, warmupSeconds: 2, maxSeconds: 5, http1Requests: 8000, http1Warmup: 1000, repeats: 2 },
      control: {
        simWorkers: 2,
        agentCounts: [10, 100],
        pushRounds: 3,
        telemetrySeconds: 4,
        telemetryFrames: 1000,
        graphServices: [200, 1000],
        graphViaConsole: [],
        graphUpdates: 3,
        graphWarmMs: 3500,
      },
      join: { agents: 200, services: 100, repeats: 1, simWorkers: 2, databases: ["sqlite"] },
    }
  : {
      data: { rate: 1000, requests: 15_000, warmup: 2000, repeats: 3, wrkSeconds: 8, profileRequests: 10_000 },
      h2: { rate: 1000, seconds: 15, warmupSeconds: 2, maxSeconds: 8, http1Requests: 15_000, http1Warmup: 2000, repeats: 3 },
      control: {
        simWorkers: 4,
        agentCounts: [10, 100, 1000],
        pushRounds: 5,
        telemetrySeconds: 10,
        telemetryFrames: 1000,
        graphServices: [200, 1000],
        graphViaConsole: [],
        graphUpdates: 8,
        graphWarmMs: 3500,
      },
      join: { agents: 1000, services: 250, repeats: 3, simWorkers: 4, databases: ["sqlite", "postgres"] },
    };

if (cfg.join && values["join-databases"]) cfg.join.databases = values["join-databases"].split(",") as ("sqlite" | "postgres")[];
if (cfg.join && values["join-repeats"]) cfg.join.repeats = Number(values["join-repeats"]);

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1", CHECKPOINT_DISABLE: "1" };
Object.assign(process.env, env);

function machine(): Machine {
  const git = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  })();
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memGb: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg(),
    node: process.versions.node,
    nginx: versionOf("nginx", ["-v"], /nginx\/(\S+)/),
    wrk: versionOf("wrk", ["-v"], /wrk (\S+)/),
    chromium: versionOf(CHROMIUM.executablePath, ["--version"], /Chromium (\S+)/),
    openssl: versionOf("openssl", ["version"], /OpenSSL (\S+)/),
    git,
  };
}

let exitCode = 0;
/** The results as they are gathered; `machine` is set once the build is done. */
const results: Omit<BenchResults, "machine"> & { machine?: Machine } = { quick, date: new Date().toISOString(), params: cfg };
try {
  // The reference tools are the data plane's (nginx, wrk, openssl for its certificates).
  if (only.has("data") || only.has("h2"))
    ensureSystemPackages({ nginx: "nginx", wrk: "wrk", h2load: "nghttp2-client", openssl: "openssl" }, { why: "npm run bench", log });
  if (!values["no-build"]) {
    log("building (turbo, cached when up to date)");
    execFileSync("npx", ["turbo", "run", "build"], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"], env, timeout: 600_000 });
  }
  results.machine = machine();
  if (only.has("data")) {
    log("data plane");
    try {
      results.dataPlane = await dataPlane(cfg.data, log);
    } catch (e) {
      results.dataPlaneError = stackOf(e);
      log(`data plane FAILED: ${messageOf(e)}`);
      exitCode = 1;
    }
    await stopAll();
  }
  if (only.has("h2") && cfg.h2) {
    log("data plane: HTTP/2 and gRPC");
    try {
      results.dataPlaneH2 = await dataPlaneH2(cfg.h2, log);
    } catch (e) {
      results.dataPlaneH2Error = stackOf(e);
      log(`HTTP/2 and gRPC FAILED: ${messageOf(e)}`);
      exitCode = 1;
    }
    await stopAll();
  }
  if (only.has("control")) {
    log("control plane + console");
    try {
      results.controlPlane = await controlPlaneAndConsole(cfg.control, log);
    } catch (e) {
      results.controlPlaneError = stackOf(e);
      log(`control plane FAILED: ${messageOf(e)}`);
      exitCode = 1;
    }
    await stopAll();
  }
  if (only.has("join") && cfg.join) {
    log("join");
    try {
      results.join = await joinScenario(cfg.join, log);
    } catch (e) {
      results.joinError = stackOf(e);
      log(`join FAILED: ${messageOf(e)}`);
      exitCode = 1;
    }
    await stopAll();
  }
} finally {
  await stopAll();
}
results.seconds = (Date.now() - t0) / 1000;
const day = results.date.slice(0, 10);
const partial = ["data", "h2", "control", "join"].filter((p) => only.has(p));
const file = `${day}${quick ? "-quick" : ""}${partial.length < 4 ? `-${partial.join("-")}` : ""}.json`;
results.file = file;
if (!results.machine) throw new Error("bench: no machine description (the run stopped before the build)");
const done: BenchResults = { ...results, machine: results.machine };
if (!values["no-write"]) {
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  writeFileSync(join(repoRoot, "bench/results", file), `${JSON.stringify(done, null, 2)}\n`);
  const md = join(repoRoot, "BENCHMARKS.md");
  const allParts = ["data", "h2", "control", "join"].every((p) => only.has(p));
  if (!allParts && existsSync(md)) writeFileSync(md, renderPartial(readFileSync(md, "utf8"), done, notes()));
  else writeFileSync(md, renderMarkdown(done, notes()));
  formatPage();
}
for (const t of evaluateTargets(done)) log(`${t.met === true ? "MET    " : t.met === false ? "NOT MET" : "—      "} ${t.target}: ${t.measured}`);
log(`done in ${done.seconds?.toFixed(0)} s → bench/results/${file}, BENCHMARKS.md`);
process.exit(exitCode);

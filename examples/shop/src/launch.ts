/**
 * Starts the demo shop: every service instance with its own real Trellis agent, then the load generator.
 *
 *   node examples/shop/dist/launch.js --console ws://127.0.0.1:3000/ws/agents --token-file data/join-token
 *        [--console-ca data/ca/ca.crt]   (a wss:// console: the CA its certificate chains to)
 *        [--state-root data/shop] [--rps 40] [--no-load] [--agent apps/agent/dist/cli.js] [--exit-with-parent]
 *        [--capture [--check]]
 *
 * --capture: every instance in a network namespace of its own with capture rules, apps calling each other by name
 * with no proxy (see capture.ts). Linux + root only; elsewhere it says why and exits 2 (--check: only that).
 *
 * Port chicken-and-egg: the agent needs the app's port (--app-port) and the app needs the agent's outbound port.
 * Nothing is pre-allocated (binding port 0, closing and hoping it stays free is a race). Instead, per instance:
 *   1. start the app with PORT=0; it binds and prints {"msg":"app listening","port":P};
 *   2. start the agent with --app-port P and ports 0; it binds and prints its inbound/outbound/admin ports;
 *   3. tell the app its outbound port over the app's stdin: {"type":"outbound","port":O}.
 * Every port is bound by the process that owns it, from the moment it is chosen. Outbound calls the app makes before
 * step 3 wait for it (bounded). The same channel re-points the app when its agent is restarted, and closing it (the
 * launcher died) makes the app exit: no orphans. Restarted children ask for their previous ports so the table stays
 * right; if a port was taken meanwhile they fall back to 0 and the table is reprinted.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeExit, ProcessGroup, type ProcessGroupOptions, spawnNode } from "@trellis/testkit/process";
import { CAPTURE, captureUnsupported, ShopPods } from "./capture.ts";
import { Backoff } from "./supervisor.ts";
import { type InstanceSpec, SHOP_INSTANCES } from "./topology.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** examples/shop/{src,dist} -> repo root */
export const REPO_ROOT = path.resolve(HERE, "../../..");
const FROM_SOURCE = import.meta.url.endsWith(".ts");
/** Output lines kept per child, to say why it died. */
const TAIL = 15;
/** A child's grace between SIGTERM and SIGKILL when the shop stops. */
const STOP_GRACE_MS = 2000;

export interface LaunchOptions {
  console?: string;
  tokenFile?: string;
  /** The CA the console's TLS certificate chains to (a wss:// console), handed to every agent as --console-ca. */
  consoleCa?: string;
  stateRoot: string;
  rps: number;
  load: boolean;
  agentCli: string;
  exitWithParent: boolean;
  readyTimeoutMs: number;
  capture: boolean;
  /** Only check that capture mode can run here (exit 0), or say why not (exit 2). */
  check: boolean;
}

export function parseLaunchArgs(argv: string[]): LaunchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      console: { type: "string" },
      "token-file": { type: "string" },
      "console-ca": { type: "string" },
      "state-root": { type: "string" },
      rps: { type: "string", default: process.env.SHOP_RPS ?? "40" },
      "no-load": { type: "boolean", default: false },
      agent: { type: "string" },
      "exit-with-parent": { type: "boolean", default: false },
      "ready-timeout": { type: "string", default: "20000" },
      capture: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
    },
    strict: true,
  });
  const rps = Number(values.rps);
  if (!(rps > 0 && rps <= 1000)) throw new Error("--rps must be in (0, 1000]");
  return {
    console: values.console,
    tokenFile: values["token-file"] ? path.resolve(values["token-file"]) : undefined,
    consoleCa: values["console-ca"] ? path.resolve(values["console-ca"]) : undefined,
    stateRoot: path.resolve(values["state-root"] ?? path.join(REPO_ROOT, "data", "shop")),
    rps,
    load: !values["no-load"],
    agentCli: path.resolve(values.agent ?? path.join(REPO_ROOT, "apps", "agent", "dist", "cli.js")),
    exitWithParent: values["exit-with-parent"],
    readyTimeoutMs: Number(values["ready-timeout"]),
    capture: values.capture,
    check: values.check,
  };
}

function script(name: "app" | "loadgen"): string[] {
  return FROM_SOURCE ? ["--import", "tsx", path.join(HERE, `${name}.ts`)] : [path.join(HERE, `${name}.js`)];
}

function say(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields });
  (level === "info" ? process.stdout : process.stderr).write(`${line}\n`);
}

export interface AgentPorts {
  inbound: number;
  outbound: number;
  admin: number;
}

export interface InstanceRow {
  id: string;
  service: string;
  version: string;
  appPort?: number;
  inbound?: number;
  outbound?: number;
  admin?: number;
  ready?: boolean;
  pids?: { app?: number; agent?: number };
}

export function formatTable(rows: InstanceRow[]): string {
  const head = ["instance", "service", "version", "app", "inbound", "outbound", "admin", "ready"];
  const body = rows.map((r) =>
    [r.id, r.service, r.version, r.appPort, r.inbound, r.outbound, r.admin, r.ready === undefined ? "?" : r.ready ? "yes" : "no"].map((v) =>
      String(v ?? "-"),
    ),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...body.map(fmt)].join("\n");
}

/** One shop instance: an app and its agent, supervised together. */
class Instance {
  app?: ProcessGroup;
  agent?: ProcessGroup;
  appPort?: number;
  ports?: AgentPorts;
  ready = false;
  private appBackoff = new Backoff();
  private agentBackoff = new Backoff();
  private timers = new Set<NodeJS.Timeout>();
  /** Set when the last start attempt of that child failed: retry with port 0 instead of the previous port. */
  private appPortFailed = false;
  private agentPortsFailed = false;
  private replacingAgent = false;

  constructor(
    readonly spec: InstanceSpec,
    private readonly l: Launcher,
  ) {}

  get dir(): string {
    return path.join(this.l.opts.stateRoot, this.spec.id);
  }

  row(): InstanceRow {
    return { ...this.spec, appPort: this.appPort, ...this.ports, ready: this.ready, pids: { app: this.app?.pid, agent: this.agent?.pid } };
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    await this.startApp();
    await this.startAgent();
  }

  private async startApp(): Promise<void> {
    const port = this.appPortFailed ? 0 : (this.appPort ?? 0);
    const opts: ProcessGroupOptions = {
      env: {
        SERVICE: this.spec.service,
        VERSION: this.spec.version,
        PORT: String(port),
        INSTANCE_ID: this.spec.id,
        TRELLIS_CONTROL: "stdin",
        OUTBOUND_PORT: "",
        ...this.l.pods?.appEnv,
      },
      stdin: true,
      logFile: path.join(this.dir, "app.log"),
      keepLines: TAIL,
    };
    const name = `${this.spec.id}/app`;
    const pods = this.l.pods;
    const app = pods
      ? new ProcessGroup(name, ...pods.inPod(this.spec, [process.execPath, ...script("app")]), opts)
      : spawnNode(name, script("app"), opts);
    this.app = app;
    void app.exited.then((e) => this.onExit("app", app, describeExit(e)));
    try {
      const line = await app.waitFor((o) => o.msg === "app listening" && typeof o.port === "number", 10_000, "app listening");
      this.appPortFailed = false;
      this.appPort = line.port as number;
      if (this.ports) app.send(JSON.stringify({ type: "outbound", port: this.ports.outbound }));
    } catch (err) {
      this.appPortFailed = true;
      void app.stop("SIGTERM", 500);
      throw err;
    }
  }

  private async startAgent(): Promise<void> {
    const prev = this.agentPortsFailed ? undefined : this.ports;
    const flags = ["--service", this.spec.service, "--version", this.spec.version, "--state-dir", this.dir, "--instance-id", this.spec.id];
    const pods = this.l.pods;
    if (this.l.opts.console) flags.push("--console", pods?.consoleUrl ?? this.l.opts.console);
    const opts: ProcessGroupOptions = { logFile: path.join(this.dir, "agent.log"), keepLines: TAIL };
    let agent: ProcessGroup;
    if (pods) {
      // Capture mode: the rules first, then the agent as UID 1337 on the fixed ports they name (token in its env).
      pods.installRules(this.spec, this.l.opts.agentCli);
      // The agents reach the console through the relay on the bridge: TLS end to end, checked for the console's name.
      if (this.l.opts.consoleCa) flags.push("--console-ca", pods.consoleCaFor(this.dir, this.l.opts.consoleCa), "--console-server-name", "localhost");
      const { argv, env } = pods.agent(this.spec, this.l.opts.agentCli, flags, this.dir);
      agent = new ProcessGroup(`${this.spec.id}/agent`, ...argv, { ...opts, env });
    } else {
      const ports = {
        "--app-port": this.appPort,
        "--inbound-port": prev?.inbound ?? 0,
        "--outbound-port": prev?.outbound ?? 0,
        "--admin-port": prev?.admin ?? 0,
      };
      for (const [flag, value] of Object.entries(ports)) flags.push(flag, String(value));
      if (this.l.opts.tokenFile) flags.push("--token-file", this.l.opts.tokenFile);
      if (this.l.opts.consoleCa) flags.push("--console-ca", this.l.opts.consoleCa);
      agent = spawnNode(`${this.spec.id}/agent`, [this.l.opts.agentCli, ...flags], opts);
    }
    this.agent = agent;
    this.ready = false;
    void agent.exited.then((e) => this.onExit("agent", agent, describeExit(e)));
    try {
      const line = await agent.waitFor((o) => o.msg === "agent listening" && typeof o.outbound === "number", 15_000, "agent listening");
      this.agentPortsFailed = false;
      const ports = { inbound: line.inbound as number, outbound: line.outbound as number, admin: line.admin as number };
      const changed = JSON.stringify(ports) !== JSON.stringify(this.ports);
      this.ports = ports;
      this.app?.send(JSON.stringify({ type: "outbound", port: ports.outbound }));
      void this.watchReady(agent);
      if (changed) this.l.portsChanged(this);
    } catch (err) {
      this.agentPortsFailed = true;
      void agent.stop("SIGTERM", 500);
      throw err;
    }
  }

  /** Polls the agent's /ready (ready = it applied a config snapshot), bounded. */
  async watchReady(agent: ProcessGroup): Promise<boolean> {
    const deadline = Date.now() + this.l.opts.readyTimeoutMs;
    while (agent.alive && !this.l.stopping && Date.now() < deadline) {
      const admin = this.l.pods?.admin(this.spec) ?? (this.ports && { host: "127.0.0.1", port: this.ports.admin });
      if (admin && (await httpStatus(admin.host, admin.port, "/ready")) === 200) {
        if (this.agent === agent && !this.ready) {
          this.ready = true;
          this.l.readyChanged(this);
        }
        return true;
      }
      await new Promise<void>((r) => this.later(r, 250));
    }
    return false;
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onExit(which: "app" | "agent", child: ProcessGroup, why: string): void {
    if (this.l.stopping) return;
    if (which === "agent" && this.replacingAgent) return;
    if ((which === "app" ? this.app : this.agent) !== child) return; // an old child
    const delay = (which === "app" ? this.appBackoff : this.agentBackoff).next(Date.now() - child.startedAt);
    say("warn", `${which} exited unexpectedly, restarting`, { instance: this.spec.id, why, restartInMs: delay, lastLines: child.lastLines() });
    if (which === "agent") this.ready = false;
    this.later(() => void this.restart(which), delay);
  }

  private async restart(which: "app" | "agent"): Promise<void> {
    if (this.l.stopping) return;
    try {
      if (which === "app") {
        const before = this.appPort;
        await this.startApp();
        if (this.appPort !== before && this.agent?.alive) {
          // The agent forwards to the old app port: replace it (it asks for its previous listener ports).
          this.replacingAgent = true;
          await this.agent.stop("SIGTERM", 1000);
          this.replacingAgent = false;
          await this.startAgent();
        }
      } else {
        await this.startAgent();
      }
      this.l.restarted(this);
      say("info", `${which} restarted`, { instance: this.spec.id, ...this.row() });
    } catch (err) {
      this.replacingAgent = false;
      say("warn", `${which} restart failed`, { instance: this.spec.id, error: (err as Error).message });
      // The failed child's exit handler schedules the next attempt.
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.agent?.stop("SIGTERM", STOP_GRACE_MS), this.app?.stop("SIGTERM", STOP_GRACE_MS)]);
  }
}

function httpStatus(host: string, port: number, p: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: p, timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

export class Launcher {
  readonly instances: Instance[];
  stopping = false;
  private loadgen?: ProcessGroup;
  private loadgenTarget?: number;
  private loadgenBackoff = new Backoff();
  private loadgenTimer?: NodeJS.Timeout;
  private started = false;
  /** Capture mode: the instances' pods. */
  pods?: ShopPods;

  constructor(
    readonly opts: LaunchOptions,
    specs: readonly InstanceSpec[] = SHOP_INSTANCES,
  ) {
    this.instances = specs.map((s) => new Instance(s, this));
  }

  get portsFile(): string {
    return path.join(this.opts.stateRoot, "ports.json");
  }

  get web(): Instance | undefined {
    return this.instances.find((i) => i.spec.service === "web");
  }

  async start(): Promise<void> {
    if (!fs.existsSync(this.opts.agentCli)) throw new Error(`agent not built: ${this.opts.agentCli} is missing (npm run build -w @trellis/agent)`);
    fs.mkdirSync(this.opts.stateRoot, { recursive: true });
    if (this.opts.capture) {
      this.pods = new ShopPods(this.instances.map((i) => i.spec));
      await this.pods.create(this.opts.console, this.opts.tokenFile);
    }
    // Three at a time: 18 Node processes starting at once on 2 cores only slow each other down.
    const queue = [...this.instances];
    const worker = async () => {
      for (let inst = queue.shift(); inst && !this.stopping; inst = queue.shift()) await inst.start();
    };
    await Promise.all([worker(), worker(), worker()]);
    if (this.stopping) return;
    const allReady = await Promise.all(this.instances.map((i) => (i.ready ? true : i.agent ? i.watchReady(i.agent) : false)));
    if (this.stopping) return;
    this.started = true;
    this.writePorts();
    process.stdout.write(`\n${this.describe()}\n\n`);
    if (!allReady.every(Boolean))
      say("warn", "some agents are not ready (no config snapshot from the console yet); they will be once it answers", {
        notReady: this.instances.filter((i) => !i.ready).map((i) => i.spec.id),
      });
    if (this.opts.load) this.startLoadgen();
    say("info", "shop ready", { portsFile: this.portsFile, instances: this.instances.length, load: this.opts.load ? this.opts.rps : 0 });
  }

  describe(): string {
    const web = this.web?.ports;
    const lines = [formatTable(this.instances.map((i) => i.row()))];
    if (this.pods && this.web) {
      const pod = this.pods.pod(this.web.spec);
      lines.push("", `capture mode: one network namespace per instance; apps call http://<service>:${CAPTURE.appPort}/ with no proxy setting`);
      lines.push(`try:  curl http://${pod.ip}:${CAPTURE.appPort}/products                 # into web's pod (captured to web's agent: ingress)`);
      lines.push(`      ip netns exec ${pod.ns} curl http://catalog:${CAPTURE.appPort}/products   # as web's app would (captured to web's agent)`);
    } else if (web) {
      lines.push("", `try:  curl -x http://127.0.0.1:${web.outbound} http://catalog/products      # as web, through web's agent outbound`);
      lines.push(`      curl http://127.0.0.1:${web.inbound}/products                          # from outside the mesh (ingress)`);
    }
    lines.push(`ports: ${this.portsFile}   logs: ${this.opts.stateRoot}/<instance>/{app,agent}.log`);
    return lines.join("\n");
  }

  writePorts(): void {
    const web = this.web?.ports;
    const data = {
      updatedAt: new Date().toISOString(),
      console: this.opts.console ?? null,
      launcherPid: process.pid,
      instances: this.instances.map((i) => i.row()),
      loadgen: this.opts.load
        ? { rps: this.opts.rps, target: this.loadgenTarget ? `127.0.0.1:${this.loadgenTarget}` : null, pid: this.loadgen?.pid ?? null }
        : null,
      examples: web ? [`curl -x http://127.0.0.1:${web.outbound} http://catalog/products`, `curl http://127.0.0.1:${web.inbound}/products`] : [],
    };
    const tmp = `${this.portsFile}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    fs.renameSync(tmp, this.portsFile);
  }

  portsChanged(inst: Instance): void {
    if (!this.started) return;
    this.writePorts();
    process.stdout.write(`\nports changed:\n${this.describe()}\n\n`);
    if (inst === this.web && this.loadgen && this.loadgenTarget !== inst.ports?.inbound) void this.loadgen.stop("SIGTERM", STOP_GRACE_MS); // its exit handler restarts it on the new port
  }

  restarted(_inst: Instance): void {
    if (this.started) this.writePorts(); // new pids
  }

  readyChanged(_inst: Instance): void {
    if (this.started) this.writePorts();
  }

  private startLoadgen(): void {
    const target = this.web?.ports?.inbound;
    if (this.stopping || !target || !this.web) return;
    this.loadgenTarget = target;
    const argv = [...script("loadgen"), "--port", String(target), "--rps", String(this.opts.rps)];
    // In capture mode the load generator runs in web's pod and calls web's agent there, on 127.0.0.1 as always.
    const inPod = this.pods?.inPod(this.web.spec, [process.execPath, ...argv]);
    const lg = new ProcessGroup("loadgen", ...(inPod ?? [process.execPath, argv]), {
      logFile: path.join(this.opts.stateRoot, "loadgen.log"),
      keepLines: TAIL,
      onLine: (line, stream) => {
        if (stream === "stdout" && line.includes('"loadgen summary"')) process.stdout.write(`${line}\n`);
      },
    });
    this.loadgen = lg;
    this.writePorts();
    void lg.exited.then((e) => {
      if (this.stopping || this.loadgen !== lg) return;
      const moved = this.web?.ports?.inbound !== this.loadgenTarget;
      const delay = moved ? 0 : this.loadgenBackoff.next(Date.now() - lg.startedAt);
      if (!moved) say("warn", "loadgen exited unexpectedly, restarting", { why: describeExit(e), restartInMs: delay, lastLines: lg.lastLines() });
      this.loadgenTimer = setTimeout(() => this.startLoadgen(), delay);
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.loadgenTimer);
    await this.loadgen?.stop("SIGTERM", 1000);
    await Promise.all(this.instances.map((i) => i.stop()));
    this.pods?.destroy();
    if (this.started) {
      try {
        fs.rmSync(this.portsFile, { force: true });
      } catch {
        /* ignore */
      }
    }
  }

  /** Everything this launcher started that may still be alive (for tests). */
  pids(): number[] {
    const out: number[] = [];
    for (const i of this.instances) for (const c of [i.app, i.agent]) if (c?.pid) out.push(c.pid);
    if (this.loadgen?.pid) out.push(this.loadgen.pid);
    return out;
  }
}

async function main(): Promise<void> {
  let opts: LaunchOptions;
  try {
    opts = parseLaunchArgs(process.argv.slice(2));
  } catch (err) {
    say("error", (err as Error).message);
    process.exit(2);
  }
  process.stdout.on("error", () => {});
  process.stderr.on("error", () => {});
  const unsupported = opts.capture ? captureUnsupported() : null;
  if (unsupported) {
    process.stderr.write(`${unsupported}\n`);
    process.exit(2);
  }
  if (opts.check) process.exit(0);
  const launcher = new Launcher(opts);
  let exiting = false;
  const shutdown = async (reason: string, code = 0) => {
    if (exiting) {
      // Second Ctrl-C: no more waiting.
      for (const i of launcher.instances) for (const c of [i.app, i.agent]) c?.signal("SIGKILL");
      process.exit(code || 130);
    }
    exiting = true;
    say("info", "stopping the shop", { reason });
    const hard = setTimeout(() => process.exit(code || 1), 4000);
    hard.unref();
    await launcher.stop();
    say("info", "shop stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  process.on("uncaughtException", (err) => {
    say("error", "launcher crashed", { error: err.stack ?? String(err) });
    void shutdown("crash", 1);
  });
  if (opts.exitWithParent) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void shutdown("parent process gone");
    }, 500).unref();
  }
  try {
    await launcher.start();
  } catch (err) {
    say("error", "shop failed to start", { error: (err as Error).message });
    await shutdown("start failed", 1);
  }
}

if (process.argv[1] && /launch\.(js|ts)$/.test(process.argv[1])) void main();

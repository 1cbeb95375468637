/**
 * The real built processes: the console (`node --import tsx apps/web/server/main.ts`, Next built) and the agent
 * (`apps/agent/dist/cli.js`), on port 0 with temp data dirs, each a process group that `stopAll()` stops.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MeshSnapshotInput } from "@trellis/protocol";
import { TEST_ADMIN_PASSWORD } from "./console-session.ts";
import { consoleCaFile, trustConsoleCa } from "./console-trust.ts";
import { type LogLine, ProcessGroup, tempDir } from "./process.ts";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
export const agentCli = join(repoRoot, "apps/agent/dist/cli.js");
export const consoleMain = join(repoRoot, "apps/web/server/main.ts");

export interface ConsoleHandle {
  proc: ProcessGroup;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port> (FakeAgent and /ws/live append their paths) */
  wsUrl: string;
  /** ws://127.0.0.1:<port>/ws/agents, what an agent's --console takes */
  wsAgents: string;
  dataDir: string;
  token: string;
}

export interface StartConsoleOptions {
  /** Default: a fresh temp dir (removed by stopAll). */
  dataDir?: string;
  token?: string;
  /** Default 0: the OS chooses. */
  port?: number;
  /** Merged over the defaults (a plain record: Next's types make NODE_ENV required in NodeJS.ProcessEnv). */
  env?: Record<string, string | undefined>;
  /** Flags for node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not accept). */
  nodeArgs?: string[];
  /** Bound on the wait for "console listening" (default 60 s). */
  timeoutMs?: number;
}

export async function startConsole(opts: StartConsoleOptions = {}): Promise<ConsoleHandle> {
  const dataDir = opts.dataDir ?? tempDir("console");
  const token = opts.token ?? "test-join-token-0123456789";
  const proc = new ProcessGroup("console", process.execPath, [...(opts.nodeArgs ?? []), "--import", "tsx", consoleMain], {
    cwd: repoRoot,
    env: {
      NODE_ENV: "production",
      PORT: String(opts.port ?? 0),
      HOST: "127.0.0.1",
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_JOIN_TOKEN: token,
      TRELLIS_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      DATABASE_URL: "",
      ...opts.env,
    },
  });
  const line = await proc.waitFor((l) => l.msg === "console listening", opts.timeoutMs ?? 60_000, "console listening");
  const url = String(line.url);
  // Beyond loopback (or with TRELLIS_TLS=1) the console serves TLS from its own CA: trust it as operators do.
  if (url.startsWith("https://")) trustConsoleCa(url, join(dataDir, "ca", "ca.crt"));
  const wsUrl = url.replace(/^http/, "ws");
  return { proc, url, wsUrl, wsAgents: `${wsUrl}/ws/agents`, dataDir, token };
}

export interface StartAgentOptions {
  service: string;
  /** Default v1. */
  version?: string;
  appPort: number;
  /**
   * The console's /ws/agents URL, or several (replicas, tried in order: the agent fails over between them); with it the
   * agent gets a unique --instance-id unless one is given.
   */
  console?: string | readonly string[];
  token?: string;
  /** Default: a fresh temp dir (removed by stopAll). */
  stateDir?: string;
  instanceId?: string;
  /** Written to `<state-dir>/snapshot.json` before start (the real persisted-snapshot path). */
  snapshot?: MeshSnapshotInput | null;
  /** More CLI flags (e.g. `--outbound-port`). */
  args?: string[];
  /** The agent's CLI script (default: the built apps/agent/dist/cli.js), e.g. another build to compare with. */
  cli?: string;
  /** Flags for node itself, before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** A command node runs under, e.g. `ip netns exec <ns> setpriv --reuid=1337 …` (PodNetwork.exec); default none. */
  prefix?: string[];
  env?: NodeJS.ProcessEnv;
  /** Bound on the wait for "agent listening" (default 20 s). */
  timeoutMs?: number;
}

export interface AgentHandle {
  proc: ProcessGroup;
  inbound: number;
  outbound: number;
  admin: number;
  stateDir: string;
  /** Parsed JSON log lines so far. */
  lines: LogLine[];
  /** Everything it printed so far. */
  stdout(): string;
  /** Resolves with the first log line (already seen or future) matching `pred`; see ProcessGroup.waitFor. */
  waitForLine(pred: (l: LogLine) => boolean, ms?: number, what?: string): Promise<LogLine>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves with the exit code (null when it had to be killed). */
  stop(graceMs?: number): Promise<number | null>;
}

export async function startAgent(o: StartAgentOptions): Promise<AgentHandle> {
  const cli = o.cli ?? agentCli;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build -w @trellis/agent\` first`);
  const version = o.version ?? "v1";
  const stateDir = o.stateDir ?? tempDir(`agent-${o.service}`);
  if (o.snapshot) writeFileSync(join(stateDir, "snapshot.json"), JSON.stringify(o.snapshot));
  const args = [cli, "--service", o.service, "--version", version, "--app-port", String(o.appPort), "--state-dir", stateDir];
  const consoles = typeof o.console === "string" ? [o.console] : (o.console ?? []);
  const instanceId = o.instanceId ?? (consoles.length > 0 ? `${o.service}-${version}-${Math.random().toString(36).slice(2, 8)}` : undefined);
  if (instanceId) args.push("--instance-id", instanceId);
  for (const url of consoles) args.push("--console", url);
  // Replicas share the mesh CA: the first TLS console's registered CA verifies them all.
  const caFile = consoles.map((url) => consoleCaFile(url)).find((file) => file !== undefined);
  if (caFile && !(o.args ?? []).some((a) => a.startsWith("--console-ca"))) args.push("--console-ca", caFile);
  args.push(...(o.args ?? []));
  const [command, ...argv] = [...(o.prefix ?? []), process.execPath, ...(o.nodeArgs ?? []), ...args];
  const proc = new ProcessGroup(`agent ${o.service}`, command, argv, {
    cwd: repoRoot,
    env: { NODE_ENV: "production", TRELLIS_JOIN_TOKEN: o.token ?? "", ...o.env },
  });
  const ready = await proc.waitFor((l) => l.msg === "agent listening", o.timeoutMs ?? 20_000, "agent listening");
  return {
    proc,
    inbound: Number(ready.inbound),
    outbound: Number(ready.outbound),
    admin: Number(ready.admin),
    stateDir,
    lines: proc.lines,
    stdout: () => proc.output.join("\n"),
    waitForLine: (pred, ms = 5_000, what = "log line") => proc.waitFor(pred, ms, what),
    stop: async (graceMs = 3_000) => (await proc.stop("SIGTERM", graceMs)).code,
  };
}

/** Command-line flags (docs/processes.md) → validated options. */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { serviceNameSchema, versionSchema } from "@trellis/protocol";
import { pinError, plaintextRefusal, readConsoleCa } from "./control/console-trust.ts";
import type { Level } from "./log.ts";
import { DEFAULT_LIMITS, type HttpLimits } from "./proxy/server.ts";

export interface AgentOptions {
  service: string;
  version: string;
  appPort: number;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  inboundHost: string;
  adminHost: string;
  advertiseHost: string;
  /** Console URLs (replicas), in the order they are tried; empty = no console (persisted snapshot only). */
  consoleUrls: string[];
  /** PEM of the CA the console's certificate must chain to (`--console-ca`); null = the system's CAs. */
  consoleCa: string | null;
  /** `--console-ca-hash sha256:<hex>`: the console's CA, by the hash of its public key (fetched, then trusted). */
  consoleCaPin: string | null;
  /** `--console-server-name`: the name the console's certificate is checked for, when it is reached by another address. */
  consoleServerName: string | null;
  token: string;
  stateDir: string;
  instanceId: string;
  heartbeatMs: number;
  limits: HttpLimits;
  logLevel: Level;
  /** Capture mode: iptables (init-capture) sends the workload's TCP here; ports are fixed, inbound binds 0.0.0.0. */
  capture: boolean;
  /**
   * How this agent calls other agents: `h2` (default) — every request over one multiplexed HTTP/2 connection per
   * endpoint, HTTP/1.1 ones marked with their original protocol; `http1` — HTTP/1.1 over keep-alive pools (HTTP/2 and
   * gRPC requests still go over HTTP/2).
   */
  meshProtocol: "h2" | "http1";
}

export const USAGE = `usage: trellis-agent --service <name> --version <v> --app-port <port>
       [--inbound-port 0] [--outbound-port 0] [--admin-port 0] [--inbound-host 127.0.0.1] [--admin-host 127.0.0.1]
       [--console ws://127.0.0.1:3000/ws/agents | wss://<host>:3000/ws/agents]  (repeated or comma-separated: replicas)
       [--console-ca <console CA file> | --console-ca-hash sha256:<hex> | TRELLIS_CONSOLE_CA / TRELLIS_CONSOLE_CA_HASH env]
       [--console-server-name <name the console's certificate names, when reached through a relay or by address>]
       [--token-file <path> | TRELLIS_JOIN_TOKEN env]
       [--state-dir <dir>] [--instance-id <id>] [--advertise-host 127.0.0.1]
       [--heartbeat-ms 5000] [--max-header-size 16384] [--headers-timeout-ms 10000]
       [--request-timeout-ms 300000] [--log-level info] [--capture] [--mesh-protocol h2|http1]
       trellis-agent init-capture --help   (capture mode's iptables init step)`;

export class UsageError extends Error {}

function port(name: string, v: string | undefined, def: number | null): number {
  if (v === undefined) {
    if (def === null) throw new UsageError(`--${name} is required`);
    return def;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number (got ${v})`);
  return n;
}

function positiveInt(name: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer (got ${v})`);
  return n;
}

/** `--console` values (each may be a comma-separated list) → distinct ws(s):// URLs, in order. */
function consoleList(values: string[]): string[] {
  const urls: string[] = [];
  for (const url of values.flatMap((v) => v.split(",")).map((v) => v.trim())) {
    if (url === "" || urls.includes(url)) continue;
    if (!/^wss?:\/\//.test(url)) throw new UsageError(`--console must be a ws:// or wss:// URL (got ${url})`);
    const refusal = plaintextRefusal(url);
    if (refusal) throw new UsageError(refusal);
    urls.push(url);
  }
  return urls;
}

export function parseAgentArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      service: { type: "string" },
      version: { type: "string" },
      "app-port": { type: "string" },
      "inbound-port": { type: "string" },
      "outbound-port": { type: "string" },
      "admin-port": { type: "string" },
      "inbound-host": { type: "string" },
      "admin-host": { type: "string" },
      console: { type: "string", multiple: true },
      "console-ca": { type: "string" },
      "console-ca-hash": { type: "string" },
      "console-server-name": { type: "string" },
      "token-file": { type: "string" },
      "state-dir": { type: "string" },
      "instance-id": { type: "string" },
      "advertise-host": { type: "string" },
      "heartbeat-ms": { type: "string" },
      "max-header-size": { type: "string" },
      "headers-timeout-ms": { type: "string" },
      "request-timeout-ms": { type: "string" },
      "log-level": { type: "string" },
      capture: { type: "boolean" },
      "mesh-protocol": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) throw new UsageError(USAGE);
  const service = serviceNameSchema.safeParse(values.service);
  if (!service.success) throw new UsageError(`--service ${values.service === undefined ? "is required" : "must be a DNS label"}`);
  const version = versionSchema.safeParse(values.version);
  if (!version.success) throw new UsageError(`--version ${values.version === undefined ? "is required" : "is not a valid version label"}`);
  const appPort = port("app-port", values["app-port"], null);
  if (appPort === 0) throw new UsageError("--app-port must not be 0");

  let token = env.TRELLIS_JOIN_TOKEN ?? "";
  if (values["token-file"] !== undefined) {
    try {
      token = readFileSync(values["token-file"], "utf8").trim();
    } catch (err) {
      throw new UsageError(`--token-file: cannot read ${values["token-file"]}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  if (token.length > 512) throw new UsageError("join token is longer than 512 characters");

  const consoleUrls = consoleList(values.console ?? (env.TRELLIS_CONSOLE ? [env.TRELLIS_CONSOLE] : []));
  let consoleCa: string | null = null;
  const caFile = values["console-ca"] ?? env.TRELLIS_CONSOLE_CA;
  if (caFile) {
    const ca = readConsoleCa(caFile);
    if ("error" in ca) throw new UsageError(ca.error);
    consoleCa = ca.pem;
  }
  const consoleCaPin = values["console-ca-hash"] ?? env.TRELLIS_CONSOLE_CA_HASH ?? null;
  if (consoleCaPin !== null) {
    const bad = pinError(consoleCaPin);
    if (bad) throw new UsageError(bad);
    if (consoleCa !== null) throw new UsageError("give --console-ca or --console-ca-hash, not both");
    if (consoleUrls.some((u) => !u.startsWith("wss://"))) throw new UsageError("--console-ca-hash needs wss:// consoles");
  }

  // Instance id: flag, else the one kept in the state dir, else a new one (kept there for the next start).
  let instanceId = values["instance-id"];
  let stateDir = values["state-dir"];
  if (stateDir === undefined) {
    instanceId ??= `${service.data}-${version.data}-${randomBytes(3).toString("hex")}`;
    stateDir = join(".state", "agents", instanceId);
  }
  stateDir = resolve(stateDir);
  mkdirSync(stateDir, { recursive: true });
  if (instanceId === undefined) {
    const file = join(stateDir, "instance-id");
    if (existsSync(file)) instanceId = readFileSync(file, "utf8").trim();
    if (!instanceId) {
      instanceId = `${service.data}-${version.data}-${randomBytes(3).toString("hex")}`;
      writeFileSync(file, `${instanceId}\n`);
    }
  }
  if (instanceId.length > 128) throw new UsageError("--instance-id is longer than 128 characters");

  const logLevel = (values["log-level"] ?? "info") as Level;
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new UsageError("--log-level must be debug|info|warn|error");

  const meshProtocol = values["mesh-protocol"] ?? "h2";
  if (meshProtocol !== "h2" && meshProtocol !== "http1") throw new UsageError("--mesh-protocol must be h2|http1");

  const capture = values.capture ?? false;
  if (capture && (!Number(values["inbound-port"]) || !Number(values["outbound-port"])))
    throw new UsageError("--capture needs fixed --inbound-port and --outbound-port (the capture rules redirect to them)");

  return {
    service: service.data,
    version: version.data,
    appPort,
    inboundPort: port("inbound-port", values["inbound-port"], 0),
    outboundPort: port("outbound-port", values["outbound-port"], 0),
    adminPort: port("admin-port", values["admin-port"], 0),
    inboundHost: values["inbound-host"] ?? (capture ? "0.0.0.0" : "127.0.0.1"),
    // Capture mode leaves the admin port unredirected so probes from outside the pod reach it: listen for them.
    adminHost: values["admin-host"] ?? (capture ? "0.0.0.0" : "127.0.0.1"),
    advertiseHost: values["advertise-host"] ?? "127.0.0.1",
    consoleUrls,
    consoleCa,
    consoleCaPin,
    consoleServerName: values["console-server-name"] ?? null,
    token,
    stateDir,
    instanceId,
    heartbeatMs: positiveInt("heartbeat-ms", values["heartbeat-ms"], 5_000),
    limits: {
      maxHeaderSize: positiveInt("max-header-size", values["max-header-size"], DEFAULT_LIMITS.maxHeaderSize),
      headersTimeoutMs: positiveInt("headers-timeout-ms", values["headers-timeout-ms"], DEFAULT_LIMITS.headersTimeoutMs),
      requestTimeoutMs: positiveInt("request-timeout-ms", values["request-timeout-ms"], DEFAULT_LIMITS.requestTimeoutMs),
      keepAliveTimeoutMs: DEFAULT_LIMITS.keepAliveTimeoutMs,
    },
    logLevel,
    capture,
    meshProtocol,
  };
}

/**
 * What the webhook injects, from its environment (set by deploy/injector). Ports and the proxy UID must match what the
 * capture init step redirects to, so they are configured here once and passed to both containers.
 */
import { injectorErrors } from "./errors.ts";

export interface InjectorConfig {
  /** Image with `trellis-agent` (and iptables, for the capture init step). */
  agentImage: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  /** The agents' control URL (`ws://…/ws/agents`), usually the console Service's cluster DNS name. */
  consoleUrl: string;
  /** Secret in the pod's own namespace holding the join token (a pod can mount only Secrets of its namespace). */
  joinTokenSecret: string;
  joinTokenKey: string;
  ports: { inbound: number; outbound: number; admin: number };
  /** UID the agent runs as; the capture rules let this UID's traffic out untouched. */
  proxyUid: number;
  excludeOutboundPorts: number[];
  excludeInboundPorts: number[];
  /** Seconds the pod keeps for the agent to drain after the app stopped (floor of terminationGracePeriodSeconds). */
  drainSeconds: number;
}

export const DEFAULT_CONFIG: InjectorConfig = {
  agentImage: "ghcr.io/trellis-mesh/agent:0.1.0",
  imagePullPolicy: "IfNotPresent",
  consoleUrl: "ws://trellis-console.trellis-system.svc.cluster.local:3000/ws/agents",
  joinTokenSecret: "trellis-join-token",
  joinTokenKey: "token",
  ports: { inbound: 15006, outbound: 15001, admin: 15020 },
  proxyUid: 1337,
  excludeOutboundPorts: [],
  excludeInboundPorts: [],
  drainSeconds: 5,
};

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw injectorErrors.config(`${name} must be an integer in ${min}..${max} (got ${raw})`);
  return n;
}

function ports(name: string, raw: string | undefined): number[] {
  if (!raw) return [];
  return raw.split(",").map((p) => int(name, p.trim(), 0, 1, 65535));
}

export function loadInjectorConfig(env: NodeJS.ProcessEnv = process.env): InjectorConfig {
  const d = DEFAULT_CONFIG;
  const pullPolicy = env.TRELLIS_IMAGE_PULL_POLICY || d.imagePullPolicy;
  if (!["Always", "IfNotPresent", "Never"].includes(pullPolicy))
    throw injectorErrors.config(`TRELLIS_IMAGE_PULL_POLICY must be Always|IfNotPresent|Never`);
  const consoleUrl = env.TRELLIS_CONSOLE_URL || d.consoleUrl;
  if (!/^wss?:\/\//.test(consoleUrl)) throw injectorErrors.config(`TRELLIS_CONSOLE_URL must be a ws:// or wss:// URL (got ${consoleUrl})`);
  return {
    agentImage: env.TRELLIS_AGENT_IMAGE || d.agentImage,
    imagePullPolicy: pullPolicy as InjectorConfig["imagePullPolicy"],
    consoleUrl,
    joinTokenSecret: env.TRELLIS_JOIN_TOKEN_SECRET || d.joinTokenSecret,
    joinTokenKey: env.TRELLIS_JOIN_TOKEN_KEY || d.joinTokenKey,
    ports: {
      inbound: int("TRELLIS_INBOUND_PORT", env.TRELLIS_INBOUND_PORT, d.ports.inbound, 1, 65535),
      outbound: int("TRELLIS_OUTBOUND_PORT", env.TRELLIS_OUTBOUND_PORT, d.ports.outbound, 1, 65535),
      admin: int("TRELLIS_ADMIN_PORT", env.TRELLIS_ADMIN_PORT, d.ports.admin, 1, 65535),
    },
    proxyUid: int("TRELLIS_PROXY_UID", env.TRELLIS_PROXY_UID, d.proxyUid, 1, 2 ** 31 - 1),
    excludeOutboundPorts: ports("TRELLIS_EXCLUDE_OUTBOUND_PORTS", env.TRELLIS_EXCLUDE_OUTBOUND_PORTS),
    excludeInboundPorts: ports("TRELLIS_EXCLUDE_INBOUND_PORTS", env.TRELLIS_EXCLUDE_INBOUND_PORTS),
    drainSeconds: int("TRELLIS_DRAIN_SECONDS", env.TRELLIS_DRAIN_SECONDS, d.drainSeconds, 0, 600),
  };
}

/**
 * Capture rules as data (a pure function, no I/O): the nat-table rules that send a workload's TCP through its agent,
 * in `iptables-restore` form, the way `istio-iptables` does. Two chains of our own, so removal is exact:
 *
 * - `TRELLIS_OUTPUT` (jumped to from nat OUTPUT: connections the pod opens). RETURN, in order: the agent's own UID
 *   (its calls to other agents and to the console), loopback destinations (127.0.0.0/8: the app talking to its own
 *   agent or to local helpers — nothing there to mesh, and the agent's listeners live there), excluded destination
 *   ports. Everything else → REDIRECT to the outbound port (on 127.0.0.1).
 * - `TRELLIS_INBOUND` (jumped to from nat PREROUTING: connections arriving from the network). RETURN for the agent's
 *   inbound port itself, its admin port and excluded ports; everything else → REDIRECT to the inbound port.
 *
 * Only IPv4 TCP is captured (UDP, e.g. DNS, is untouched; IPv6 is not captured — see the README).
 */

export const OUTPUT_CHAIN = "TRELLIS_OUTPUT";
export const INBOUND_CHAIN = "TRELLIS_INBOUND";

/** The built-in chains that jump to ours: [built-in, ours]. */
export const JUMPS: readonly (readonly [string, string])[] = [
  ["OUTPUT", OUTPUT_CHAIN],
  ["PREROUTING", INBOUND_CHAIN],
];

export interface CaptureSpec {
  outboundPort: number;
  inboundPort: number;
  /** The UID the agent runs as; its own connections are never captured. */
  proxyUid: number;
  /** The agent's admin port: reachable from outside without redirection (probes, Prometheus). */
  adminPort: number | null;
  excludeOutboundPorts: readonly number[];
  excludeInboundPorts: readonly number[];
}

/** Arguments of the rule that jumps from a built-in chain to ours (used to add it and to delete it). */
export function jumpRule(chain: string): string[] {
  return ["-p", "tcp", "-j", chain];
}

/** The rules, one array of iptables arguments per rule, as `-A <chain> …` (what `iptables-restore` reads). */
export function captureRuleArgs(spec: CaptureSpec): string[][] {
  const out: string[][] = [];
  const ret = (chain: string, ...match: string[]) => out.push(["-A", chain, "-p", "tcp", ...match, "-j", "RETURN"]);
  ret(OUTPUT_CHAIN, "-m", "owner", "--uid-owner", String(spec.proxyUid));
  ret(OUTPUT_CHAIN, "-d", "127.0.0.0/8");
  for (const p of unique(spec.excludeOutboundPorts)) ret(OUTPUT_CHAIN, "--dport", String(p));
  out.push(["-A", OUTPUT_CHAIN, "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(spec.outboundPort)]);

  ret(INBOUND_CHAIN, "--dport", String(spec.inboundPort));
  const inboundExcluded = spec.adminPort === null ? spec.excludeInboundPorts : [spec.adminPort, ...spec.excludeInboundPorts];
  for (const p of unique(inboundExcluded)) if (p !== spec.inboundPort) ret(INBOUND_CHAIN, "--dport", String(p));
  out.push(["-A", INBOUND_CHAIN, "-p", "tcp", "-j", "REDIRECT", "--to-ports", String(spec.inboundPort)]);

  for (const [builtin, chain] of JUMPS) out.push(["-A", builtin, ...jumpRule(chain)]);
  return out;
}

/** The whole `iptables-restore --noflush` input: declares (and so empties) our chains, then adds the rules. */
export function captureRestoreInput(spec: CaptureSpec): string {
  const lines = ["*nat", `:${OUTPUT_CHAIN} - [0:0]`, `:${INBOUND_CHAIN} - [0:0]`];
  for (const rule of captureRuleArgs(spec)) lines.push(rule.join(" "));
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/**
 * What removes every trace of capture, given the nat table as `iptables -t nat -S` prints it: the jumps into our
 * chains (each `-A` turned into `-D`), then flush and delete our chains. Nothing to remove → no commands (idempotent).
 */
export function removalArgs(natRules: string): string[][] {
  const ours = new Set([OUTPUT_CHAIN, INBOUND_CHAIN]);
  const out: string[][] = [];
  const lines = natRules.split("\n").map((l) => l.trim().split(/\s+/));
  for (const words of lines) {
    const j = words.indexOf("-j");
    if (words[0] === "-A" && !ours.has(words[1]) && j > 0 && ours.has(words[j + 1])) out.push(["-D", ...words.slice(1)]);
  }
  for (const words of lines) if (words[0] === "-N" && ours.has(words[1])) out.push(["-F", words[1]], ["-X", words[1]]);
  return out;
}

function unique(ports: readonly number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

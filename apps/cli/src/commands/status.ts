/** `trellis status`: every agent with its sync state, as `istioctl proxy-status` shows proxies. */
import type { Args } from "../args.ts";
import type { ConsoleClient } from "../client.ts";
import { ago, type Column, formatOf, render } from "../output.ts";

interface Agent {
  instanceId: string;
  service: string;
  version: string;
  connected: boolean;
  lastSeen: string;
  sentVersion: number;
  ackedVersion: number;
  syncState: string;
  syncError: string | null;
}

const COLUMNS: Column<Agent>[] = [
  ["SERVICE", (a) => a.service],
  ["VERSION", (a) => a.version],
  ["INSTANCE", (a) => a.instanceId],
  ["CONFIG", (a) => `v${a.ackedVersion}${a.sentVersion !== a.ackedVersion ? ` (sent v${a.sentVersion})` : ""}`],
  ["SYNC", (a) => a.syncState],
  ["CONNECTED", (a) => (a.connected ? "yes" : "no")],
  ["LAST SEEN", (a) => ago(a.lastSeen)],
  ["ERROR", (a) => a.syncError ?? ""],
];

export async function status(client: ConsoleClient, args: Args): Promise<string> {
  const r = await client.query<{ configVersion: number; connected: number; agents: Agent[] }>("agents.list", {});
  const format = formatOf(args);
  const out = render(format, r, r.agents, COLUMNS);
  return format === "table" ? `config version v${r.configVersion}, ${r.connected} agent(s) connected\n${out}` : out;
}

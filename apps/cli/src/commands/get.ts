/** `trellis get services | policy <service> | revisions [--service s]`, `-o table|json|yaml`. */
import { type Args, flag, UsageError } from "../args.ts";
import type { ConsoleClient } from "../client.ts";
import { type Column, formatOf, render } from "../output.ts";

interface ServiceItem {
  name: string;
  versions: string[];
  instances: number;
  connected: number;
  rps: number;
  health: string;
}
interface Revision {
  id: number;
  createdAt: string;
  actor: string;
  part: string;
  service: string | null;
  summary: string;
  configVersion: number;
}

const SERVICES: Column<ServiceItem>[] = [
  ["NAME", (s) => s.name],
  ["VERSIONS", (s) => s.versions.join(",")],
  ["INSTANCES", (s) => `${s.connected}/${s.instances}`],
  ["HEALTH", (s) => s.health],
  ["RPS", (s) => s.rps.toFixed(1)],
];
const REVISIONS: Column<Revision>[] = [
  ["ID", (r) => r.id],
  ["WHEN", (r) => r.createdAt],
  ["ACTOR", (r) => r.actor],
  ["PART", (r) => r.part],
  ["SERVICE", (r) => r.service ?? "(mesh)"],
  ["CONFIG", (r) => `v${r.configVersion}`],
  ["SUMMARY", (r) => r.summary],
];

export async function get(client: ConsoleClient, args: Args): Promise<string> {
  const [, what, name] = args.words;
  const format = formatOf(args);
  if (what === "services" || what === "service") {
    const rows = await client.query<ServiceItem[]>("services.list", {});
    return render(format, rows, rows, SERVICES);
  }
  if (what === "policy") {
    if (!name) throw new UsageError("usage: trellis get policy <service>");
    const r = await client.query<{ policy: Record<string, unknown> }>("traffic.get", { service: name });
    const doc = { service: name, policy: r.policy };
    return render(format === "table" ? "yaml" : format, doc, [], []);
  }
  if (what === "revisions" || what === "revision") {
    const rows = await client.query<Revision[]>("revisions.list", { service: flag(args, "service"), limit: 100 });
    return render(format, rows, rows, REVISIONS);
  }
  throw new UsageError("usage: trellis get services | policy <service> | revisions [--service s]");
}

/**
 * What an operator sees in the console during a fault: the agents page (sync state per agent, connected or not) and the
 * live graph (error rate per edge), polled once a second through the console's tRPC API as the admin. A poll that
 * fails is what the operator sees too: the console is unreachable.
 */
import { ConsoleSession, within } from "@trellis/testkit";

interface AgentView {
  instanceId: string;
  connected: boolean;
  syncState: string;
  ackedVersion: number;
}
interface EdgeView {
  source: string;
  destination: string;
  destinationVersion: string;
  errorRate: number;
  requests: number;
}

export interface Observation {
  at: number;
  ok: boolean;
  /** Connected agents / known agents, and the states they are in (SYNCED 9, STALE 1 …). */
  connected?: number;
  known?: number;
  states?: Record<string, number>;
  /** Agents not connected, or not SYNCED. */
  unhealthy?: string[];
  /** Edges with errors in the graph's window: "web→catalog@v1 2.5%". */
  erroring?: { edge: string; errorPct: number }[];
  error?: string;
}

export class OperatorView {
  readonly observations: Observation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private session: ConsoleSession | undefined;

  constructor(private readonly baseUrl: string) {}

  async start(): Promise<void> {
    this.session = await ConsoleSession.signIn(this.baseUrl);
    const tick = async () => {
      this.observations.push(await this.observe());
      this.timer = setTimeout(tick, 1_000);
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The session survives a console restart (sessions are in its database); signs in again if it does not. */
  private async observe(): Promise<Observation> {
    const at = Date.now();
    try {
      const q = <T>(path: string, input?: unknown) => within(this.session!.query<T>(path, input), 2_000, path);
      let agents: { agents: AgentView[] };
      try {
        agents = await q<{ agents: AgentView[] }>("agents.list");
      } catch (err) {
        if (!String(err).includes("401")) throw err;
        this.session = await ConsoleSession.signIn(this.baseUrl);
        agents = await q<{ agents: AgentView[] }>("agents.list");
      }
      const graph = await q<{ edges: EdgeView[] }>("graph.live", { windowSeconds: 5 });
      const states: Record<string, number> = {};
      for (const a of agents.agents) {
        const s = a.connected ? a.syncState : "DISCONNECTED";
        states[s] = (states[s] ?? 0) + 1;
      }
      return {
        at,
        ok: true,
        known: agents.agents.length,
        connected: agents.agents.filter((a) => a.connected).length,
        states,
        unhealthy: agents.agents
          .filter((a) => !a.connected || a.syncState !== "SYNCED")
          .map((a) => `${a.instanceId}:${a.connected ? a.syncState : "DISCONNECTED"}`),
        erroring: graph.edges
          .filter((e) => e.errorRate > 0)
          .map((e) => ({ edge: `${e.source}→${e.destination}@${e.destinationVersion}`, errorPct: Math.round(e.errorRate * 1000) / 10 })),
      };
    } catch (err) {
      return { at, ok: false, error: (err as Error).message.slice(0, 120) };
    }
  }

  /** A one-paragraph account of [from, to): unreachable polls, agents that left SYNCED, edges that showed errors. */
  summarize(from: number, to: number): string {
    const obs = this.observations.filter((o) => o.at >= from && o.at < to);
    if (obs.length === 0) return "no observation";
    const parts: string[] = [];
    const down = obs.filter((o) => !o.ok);
    if (down.length) parts.push(`console unreachable in ${down.length}/${obs.length} polls`);
    const unhealthy = new Map<string, number>();
    for (const o of obs) for (const u of o.unhealthy ?? []) unhealthy.set(u, (unhealthy.get(u) ?? 0) + 1);
    if (unhealthy.size)
      parts.push(
        `agents page: ${[...unhealthy]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([u, n]) => `${u} (${n} s)`)
          .join(", ")}`,
      );
    const edges = new Map<string, number>();
    for (const o of obs) for (const e of o.erroring ?? []) edges.set(e.edge, Math.max(edges.get(e.edge) ?? 0, e.errorPct));
    if (edges.size)
      parts.push(
        `graph: errors on ${[...edges]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([e, p]) => `${e} (max ${p}%)`)
          .join(", ")}`,
      );
    const last = [...obs].reverse().find((o) => o.ok);
    if (last)
      parts.push(
        `at the end: ${last.connected}/${last.known} connected, ${Object.entries(last.states ?? {})
          .map(([s, n]) => `${s} ${n}`)
          .join(", ")}`,
      );
    return parts.length ? parts.join("; ") : "all agents SYNCED, no edge with errors";
  }
}

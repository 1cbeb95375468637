/** The simulated fleet's parent side: worker processes running bench/lib/sim-agents.ts, driven over IPC. */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@trellis/testkit";
import type { SimAgentSpec, SimCommand, SimReply, SimResults, TelemetryPlan } from "./sim-agents.ts";

const SIM = join(repoRoot, "bench/lib/sim-agents.ts");

type Ok = Extract<SimReply, { ok: true }>;
interface SimWorker {
  child: ChildProcess;
  pending: Map<number, { resolve: (m: Ok) => void; reject: (e: Error) => void }>;
}

/** The simulated fleet: worker processes (bench/lib/sim-agents.ts, forked with this process's --import tsx). */
export class SimFleet {
  readonly workers: SimWorker[];
  private seq = 0;
  /** [workerIndex, agent], in join order. */
  readonly list: [number, SimAgentSpec][] = [];

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => {
      const child = fork(SIM, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const w: SimWorker = { child, pending: new Map() };
      child.on("message", (raw) => {
        const m = raw as SimReply;
        const p = w.pending.get(m.id);
        w.pending.delete(m.id);
        if (m.ok) p?.resolve(m);
        else p?.reject(new Error(m.error));
      });
      return w;
    });
  }
  call<K extends SimCommand["cmd"]>(w: SimWorker, msg: Extract<SimCommand, { cmd: K }>, timeoutMs = 300_000): Promise<SimResults[K]> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sim worker: ${msg.cmd} timed out`)), timeoutMs);
      w.pending.set(id, {
        // The worker answers `msg.cmd` with that command's result (sim-agents.ts, `handlers`).
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as unknown as SimResults[K]);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      w.child.send({ id, ...msg });
    });
  }
  /** Adds agents, spread over the workers; resolves when each has acked its first snapshot. */
  async join(url: string, token: string, agents: SimAgentSpec[]): Promise<void> {
    const per: SimAgentSpec[][] = this.workers.map(() => []);
    for (const a of agents) {
      const wi = this.list.length % this.workers.length;
      per[wi].push(a);
      this.list.push([wi, a]);
    }
    await Promise.all(this.workers.map((w, i) => (per[i].length ? this.call(w, { cmd: "join", url, token, list: per[i] }) : null)));
  }
  /** Makes every agent's key and CSR (before a timed join: an agent has its key before it connects). */
  async prepare(agents: SimAgentSpec[]): Promise<void> {
    const per = this.spread(agents);
    await Promise.all(this.workers.map((w, i) => (per[i].length ? this.call(w, { cmd: "prepare", list: per[i] }) : null)));
  }
  /**
   * Connects all `agents` at once (no backoff, no stagger: the burst after a console restart at its worst); resolves
   * with when each was joined (first snapshot acked, certificate held when prepared with a CSR), epoch ms.
   */
  async joinAtOnce(url: string, token: string, agents: SimAgentSpec[]): Promise<number[]> {
    const per = this.spread(agents);
    for (let i = 0; i < agents.length; i++) this.list.push([i % this.workers.length, agents[i]]);
    const parts = await Promise.all(
      this.workers.map((w, i) => (per[i].length ? this.call(w, { cmd: "join", url, token, list: per[i], concurrency: per[i].length }) : null)),
    );
    return parts.flatMap((p) => p?.joinedAt ?? []);
  }
  /** Every agent closes its socket; the fleet is empty afterwards (the agents keep the version they held). */
  async leave(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { cmd: "leave" })));
    this.list.splice(0);
  }
  private spread(agents: SimAgentSpec[]): SimAgentSpec[][] {
    const per: SimAgentSpec[][] = this.workers.map(() => []);
    for (let i = 0; i < agents.length; i++) per[i % this.workers.length].push(agents[i]);
    return per;
  }
  /** Ack time of a version ≥ v for every agent (in join order; null where not yet acked). */
  async ackTimes(version: number): Promise<(number | null)[]> {
    const parts = await Promise.all(this.workers.map((w) => this.call(w, { cmd: "ackTimes", version })));
    return parts.flatMap((p) => p.times);
  }
  async telemetry(edges: TelemetryPlan): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { cmd: "telemetry", edges })));
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { cmd: "close" }, 5000).catch(() => undefined)));
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill("SIGTERM");
  }
}

/**
 * The faults, one after another. Each injects itself, waits until it is over (the killed process is back and ready,
 * the console answers again, the spike ended) and says when it started and ended; measuring is the runner's job.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runLoad } from "../examples/shop/src/loadgen.ts";
import type { Mesh } from "./mesh.ts";
import type { Timeline } from "./timeline.ts";

export type Target = "kill" | "console-down" | "none";

export interface FaultContext {
  mesh: Mesh;
  timeline: Timeline;
  /** The steady load's rate. */
  rps: number;
  /** Something worth reporting, said as it happens. */
  note(text: string): void;
}

export interface FaultRun {
  start: number;
  /** When the fault was over (process back and ready, console answering, spike ended). */
  end: number;
  /** What happened, for the report. */
  detail: string;
}

export interface Fault {
  name: string;
  /** Which CHAOS.md target applies to its success rate. */
  target: Target;
  /** Recovery counts from the fault's end (a fault that lasts: the console stalled, the spike) rather than its start. */
  lasting?: boolean;
  /** Instance whose logs explain a miss. */
  instance?: string;
  run(ctx: FaultContext): Promise<FaultRun>;
}

/** The instances killed: catalog runs two, so one of them going away is what retries and ejection must hide. */
const AGENT_VICTIM = "catalog-v1-2";
const APP_VICTIM = "catalog-v1-1";

async function restartAgent(ctx: FaultContext, id: string, signal: NodeJS.Signals): Promise<{ start: number; end: number; pid: number }> {
  const pid = ctx.mesh.instance(id).pids?.agent;
  if (!pid) throw new Error(`${id} has no agent pid`);
  const start = Date.now();
  process.kill(pid, signal);
  const back = await ctx.mesh.restarted(id, "agent", pid, 90_000);
  return { start, end: Date.now(), pid: back.pids?.agent ?? 0 };
}

/** Makes a path unwritable even for root (`chattr +i`), or only for others (chmod) when chattr is not available. */
function setImmutable(path: string, on: boolean): "chattr" | "chmod" {
  const r = spawnSync("chattr", [on ? "+i" : "-i", path], { stdio: "ignore" });
  if (r.status === 0) return "chattr";
  chmodSync(path, on ? 0o555 : 0o755);
  return "chmod";
}

export const FAULTS: Fault[] = [
  {
    name: `kill -9 of an agent (${AGENT_VICTIM})`,
    target: "kill",
    instance: AGENT_VICTIM,
    async run(ctx) {
      const r = await restartAgent(ctx, AGENT_VICTIM, "SIGKILL");
      return {
        ...r,
        detail: `agent pid ${ctx.mesh.instance(AGENT_VICTIM).pids?.agent} back and ready after ${r.end - r.start} ms (launcher restart)`,
      };
    },
  },
  {
    name: `kill -9 of an app (${APP_VICTIM})`,
    target: "kill",
    instance: APP_VICTIM,
    async run(ctx) {
      const pid = ctx.mesh.instance(APP_VICTIM).pids?.app;
      if (!pid) throw new Error(`${APP_VICTIM} has no app pid`);
      const start = Date.now();
      process.kill(pid, "SIGKILL");
      await ctx.mesh.restarted(APP_VICTIM, "app", pid, 90_000);
      const end = Date.now();
      return { start, end, detail: `app back after ${end - start} ms (launcher restart)` };
    },
  },
  {
    name: "kill -9 of the console",
    target: "kill",
    async run(ctx) {
      const start = Date.now();
      ctx.mesh.console.proc.signal("SIGKILL");
      await ctx.mesh.console.proc.exited;
      await ctx.mesh.startConsole();
      const end = Date.now();
      return { start, end, detail: `console restarted at once on the same port and database; listening again after ${end - start} ms` };
    },
  },
  {
    name: "corrupted persisted snapshot (catalog-v1-1), agent restarted",
    target: "kill",
    instance: "catalog-v1-1",
    async run(ctx) {
      const file = join(ctx.mesh.stateDir("catalog-v1-1"), "snapshot.json");
      if (!existsSync(file)) ctx.note(`${file} did not exist before the fault`);
      writeFileSync(file, '{"version": 99999999, "services": [{"name": "catalog", "endpoi\u0000\u00ff');
      const r = await restartAgent(ctx, "catalog-v1-1", "SIGTERM");
      return {
        start: r.start,
        end: r.end,
        detail: `snapshot.json overwritten with truncated JSON, agent SIGTERMed; back and ready after ${r.end - r.start} ms`,
      };
    },
  },
  {
    name: "read-only persisted snapshot (catalog-v1-2), agent restarted",
    target: "kill",
    instance: "catalog-v1-2",
    async run(ctx) {
      const dir = ctx.mesh.stateDir("catalog-v1-2");
      const file = join(dir, "snapshot.json");
      const how = [setImmutable(file, true), setImmutable(dir, true)];
      try {
        const r = await restartAgent(ctx, "catalog-v1-2", "SIGTERM");
        return {
          start: r.start,
          end: r.end,
          detail: `state dir and snapshot.json made read-only (${how[0]}), agent SIGTERMed; back and ready after ${r.end - r.start} ms`,
        };
      } finally {
        setImmutable(dir, false);
        setImmutable(file, false);
      }
    },
  },
  {
    name: "console unreachable for 30 s (SIGSTOP)",
    target: "console-down",
    lasting: true,
    async run(ctx) {
      const start = Date.now();
      // Stopped, not killed: connections stay open and nothing answers, as with a partition on loopback.
      ctx.mesh.console.proc.signal("SIGSTOP");
      try {
        await new Promise((r) => setTimeout(r, 30_000));
      } finally {
        ctx.mesh.console.proc.signal("SIGCONT");
      }
      return { start, end: Date.now(), detail: "console process group stopped for 30 s, then continued" };
    },
  },
  {
    name: "10× load spike (10 s)",
    target: "none",
    lasting: true,
    async run(ctx) {
      const start = Date.now();
      const extra = await runLoad(
        {
          host: "127.0.0.1",
          port: ctx.mesh.webInbound(),
          rps: ctx.rps * 9,
          durationS: 10,
          reportEveryS: 3600,
          seed: 1234,
          maxInFlight: 512,
          timeoutMs: 10_000,
        },
        () => {},
        undefined,
        (r) => ctx.timeline.record(r),
      );
      const end = Date.now();
      return {
        start,
        end,
        detail: `${ctx.rps * 10} rps for 10 s (${ctx.rps} steady + ${ctx.rps * 9} extra); the extra load generator dropped ${extra.dropped} and skipped ${extra.skipped} requests it could not send`,
      };
    },
  },
];

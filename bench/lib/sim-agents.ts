/**
 * A worker process hosting many simulated agents (the kit's FakeAgent), each on its own real websocket to the console's
 * /ws/agents, speaking the real protocol: hello with the join token (and, when prepared with one, a CSR of its own key
 * answered by a certificate), ack of every snapshot (recording when), telemetry frames once a second. Driven by the parent over IPC ({id, cmd, ...} → {id, ...}); see SimFleet in control-plane.ts.
 */
import { agentFrameSchema } from "@trellis/protocol";
import { createCsr, FakeAgent } from "@trellis/testkit";

/** Who a simulated agent is. */
export interface SimAgentSpec {
  service: string;
  version: string;
  instanceId: string;
  address: string;
}

/** Telemetry to send: per instanceId, prebuilt edge-array JSON variants (one picked at random per frame). */
export type TelemetryPlan = { perSecond?: number } & { [instanceId: string]: string[] | number | undefined };

/** The parent's commands over IPC, each answered by a {@link SimReply} with the same id. */
export type SimCommand =
  /** Makes each agent's key and CSR ahead of a timed join (an agent has its key before it connects). */
  | { cmd: "prepare"; list: SimAgentSpec[] }
  /** Connects the agents (`concurrency` at a time, default 50); each is joined once it acked its first snapshot and,
   * when prepared with a CSR, holds its certificate. */
  | { cmd: "join"; url: string; token: string; list: SimAgentSpec[]; concurrency?: number }
  /** Closes every agent's socket and forgets the agents (each one's acked version is kept for its next hello). */
  | { cmd: "leave" }
  | { cmd: "ackTimes"; version: number }
  | { cmd: "maxAcked" }
  | { cmd: "telemetry"; edges: TelemetryPlan }
  | { cmd: "close" };

/** What each command answers (besides id and ok). */
export interface SimResults {
  prepare: { csrs: number };
  /** `joinedAt`: when each agent of the list was joined (epoch ms), in list order. */
  join: { agents: number; joinedAt: number[] };
  leave: { left: number };
  ackTimes: { times: (number | null)[] };
  maxAcked: { versions: number[] };
  telemetry: { on: number };
  close: object;
}

/** The answer to a command: its result, or why it failed. */
export type SimReply = ({ id: number; ok: true } & SimResults[keyof SimResults]) | { id: number; ok: false; error: string };

interface SimAgent extends SimAgentSpec {
  fake: FakeAgent;
  /** [version, epoch ms] of the recent acks, oldest first. */
  acks: [number, number][];
  telemetry: string[] | null;
  timer: NodeJS.Timeout | null;
  snapshots: number;
  /** When the agent held both its first snapshot (acked) and, if it asked for one, its certificate. */
  joinedAt: number | null;
}

const agents: SimAgent[] = [];
/** CSRs made by `prepare`, per instance id. */
const csrs = new Map<string, string>();
/** The version each agent acked last before it left: its next hello resumes from it, as an agent's does. */
const heldVersion = new Map<string, number>();
const now = () => performance.timeOrigin + performance.now();
/** Agents told to leave (their close is not a reason to dial again). */
const closing = new WeakSet<SimAgent>();
/** How often an agent dialed again after the console closed it before it joined, per close code. */
const retries = new Map<number, number>();

/**
 * One simulated agent: the kit's FakeAgent (frames parsed with the protocol's schemas, snapshots acked), recording when
 * it acked what; resolves once it acked its first snapshot and holds its certificate (when it sent a CSR).
 */
function connectOne(baseUrl: string, token: string, a: SimAgentSpec): Promise<SimAgent> {
  const csr = csrs.get(a.instanceId);
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () =>
        reject(
          new Error(
            `${a.instanceId}: not joined within 180 s (${agent.snapshots} snapshots, certificate ${certified}; closes before joining, by code: ${JSON.stringify([...retries])})`,
          ),
        ),
      // Generous: on a 2-core machine shared with other work a burst of 1,000 can take minutes; the figure is the time.
      180_000,
    );
    let certified = false;
    const done = () => {
      if (agent.joinedAt !== null || agent.snapshots === 0 || (csr && !certified)) return;
      agent.joinedAt = now();
      clearTimeout(t);
      resolve(agent);
    };
    const fake = new FakeAgent(baseUrl, {
      service: a.service,
      version: a.version,
      instanceId: a.instanceId,
      address: a.address,
      token,
      csr,
      configVersion: heldVersion.get(a.instanceId) ?? 0,
      record: false,
      // Frames are parsed with the protocol's frame schemas; the snapshot body is not validated again here (the console
      // built it from validated state): the push rounds time the console, not the simulator's zod passes.
      checkSnapshots: false,
      onFrame: (f) => {
        if (f.type === "certificate") {
          certified = true;
          done();
          return;
        }
        if (f.type === "error" && f.code === "bad-csr") {
          clearTimeout(t);
          reject(new Error(`${a.instanceId}: ${String(f.message)}`));
          return;
        }
        if (f.type !== "snapshot") return;
        if (typeof f.snapshotError === "string") {
          clearTimeout(t);
          reject(new Error(`${a.instanceId}: snapshot v${f.version} does not parse: ${f.snapshotError}`));
          return;
        }
        agent.acks.push([f.version, now()]);
        if (agent.acks.length > 50) agent.acks.splice(0, 25);
        agent.snapshots++;
        done();
      },
    });
    const agent: SimAgent = { ...a, fake, acks: [], telemetry: null, timer: null, snapshots: 0, joinedAt: null };
    // Closed by the console before it joined (e.g. its hello waited past the console's hello timeout in the burst): it
    // dials again after a capped exponential backoff with full jitter, as a real agent does (apps/agent failover.ts).
    let attempt = 0;
    const dial = () => {
      agent.fake.closeCode = null;
      agent.fake
        .connect()
        .then(() => agent.fake.closed(180_000))
        .then((code) => {
          if (agent.joinedAt !== null || closing.has(agent)) return;
          retries.set(code, (retries.get(code) ?? 0) + 1);
          setTimeout(dial, Math.random() * Math.min(10_000, 250 * 2 ** attempt++));
        })
        .catch((e: unknown) => {
          if (agent.joinedAt !== null) return;
          clearTimeout(t);
          reject(e);
        });
    };
    dial();
    agents.push(agent);
  });
}

async function join({ url, token, list, concurrency = 50 }: Extract<SimCommand, { cmd: "join" }>): Promise<number[]> {
  const joinedAt: number[] = new Array(list.length);
  let next = 0;
  const work = async () => {
    while (next < list.length) {
      const i = next++;
      joinedAt[i] = (await connectOne(url, token, list[i])).joinedAt!;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, work));
  return joinedAt;
}

/** Closes every agent's socket (a clean close, as an agent that stops) and waits until each is closed. */
async function leave(): Promise<number> {
  const left = agents.splice(0);
  for (const a of left) {
    closing.add(a);
    if (a.timer) clearInterval(a.timer);
    if (a.acks.length) heldVersion.set(a.instanceId, a.acks[a.acks.length - 1][0]);
    a.fake.close();
  }
  await Promise.all(left.map((a) => (a.fake.closeCode === null ? a.fake.closed(10_000).catch(() => a.fake.terminate()) : null)));
  return left.length;
}

const telemetryFrame = (windowStart: number, edges: string) =>
  `{"type":"telemetry","window":{"windowStart":${windowStart},"windowMs":1000,"edges":${edges},"spans":[]}}`;

/** The edge variants are prebuilt JSON (a thousand frames a second): each is validated with the protocol's schema once, here. */
function checkTelemetry(variants: string[]): void {
  for (const edges of variants) {
    const r = agentFrameSchema.safeParse(JSON.parse(telemetryFrame(0, edges)));
    if (!r.success) throw new Error(`simulated telemetry is not a valid frame: ${r.error.message.slice(0, 300)}`);
  }
}

function sendTelemetry(agent: SimAgent): void {
  if (!agent.telemetry || !agent.fake.isOpen) return;
  const variants = agent.telemetry;
  const edges = variants[Math.floor(Math.random() * variants.length)];
  agent.fake.send(telemetryFrame(Math.floor(Date.now() / 1000) * 1000 - 1000, edges));
}

const handlers: { [K in SimCommand["cmd"]]: (m: Extract<SimCommand, { cmd: K }>) => SimResults[K] | Promise<SimResults[K]> } = {
  prepare: async (m) => {
    for (const a of m.list) if (!csrs.has(a.instanceId)) csrs.set(a.instanceId, await createCsr(a.service));
    return { csrs: csrs.size };
  },
  join: async (m) => {
    const joinedAt = await join(m);
    return { agents: agents.length, joinedAt };
  },
  leave: async () => ({ left: await leave() }),
  /** For each agent: time (epoch ms, µs precision) of its first ack of a version ≥ m.version, or null. */
  ackTimes: (m) => ({ times: agents.map((a) => a.acks.find(([v]) => v >= m.version)?.[1] ?? null) }),
  maxAcked: () => ({ versions: agents.map((a) => (a.acks.length ? a.acks[a.acks.length - 1][0] : 0)) }),
  /** m.edges: { instanceId: [edgesJson variant, …] }; frames spread evenly over the second (random phase). */
  telemetry: (m) => {
    for (const a of agents) {
      if (a.timer) clearInterval(a.timer);
      a.timer = null;
      const variants = m.edges[a.instanceId];
      a.telemetry = Array.isArray(variants) ? variants : null;
      if (!a.telemetry) continue;
      checkTelemetry(a.telemetry);
      const agent = a;
      const every = 1000 / (m.edges.perSecond ?? 1);
      agent.timer = setTimeout(() => {
        sendTelemetry(agent);
        agent.timer = setInterval(() => sendTelemetry(agent), every);
      }, Math.random() * every);
    }
    return { on: agents.filter((a) => a.telemetry).length };
  },
  close: async () => {
    for (const a of agents) {
      if (a.timer) {
        clearInterval(a.timer);
        clearTimeout(a.timer);
      }
      a.fake.close();
    }
    setTimeout(() => process.exit(0), 200);
    return {};
  },
};

/** Runs one command with its own handler. */
function handle<K extends SimCommand["cmd"]>(m: Extract<SimCommand, { cmd: K }>): SimResults[K] | Promise<SimResults[K]> {
  return (handlers[m.cmd] as (c: typeof m) => SimResults[K] | Promise<SimResults[K]>)(m);
}

const reply = (r: SimReply) => process.send?.(r);
process.on("message", async (raw) => {
  const m = raw as SimCommand & { id: number };
  try {
    reply({ id: m.id, ok: true, ...(await handle(m)) });
  } catch (e) {
    reply({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
process.on("disconnect", () => process.exit(0));

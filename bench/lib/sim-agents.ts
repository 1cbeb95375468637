#!/usr/bin/env node
/**
 * A worker process hosting many simulated agents (the kit's FakeAgent), each on its own real websocket to the console's
 * /ws/agents, speaking the real protocol: hello with the join token, ack of every snapshot (recording when), telemetry
 * frames once a second. Driven by the parent over IPC ({id, cmd, ...} → {id, ...}); see SimFleet in control-plane.ts.
 */
import { agentFrameSchema } from "@trellis/protocol";
import { FakeAgent } from "@trellis/testkit";

const agents = [];
const now = () => performance.timeOrigin + performance.now();

/** One simulated agent: the kit's FakeAgent (frames parsed with the protocol's schemas, snapshots acked), recording when it acked what. */
function connectOne(baseUrl, token, a) {
  return new Promise((resolve, reject) => {
    const agent = { ...a, fake: null, acks: [], telemetry: null, timer: null, snapshots: 0 };
    const t = setTimeout(() => reject(new Error(`${a.instanceId}: no snapshot within 60 s`)), 60_000);
    agent.fake = new FakeAgent(baseUrl, {
      service: a.service,
      version: a.version,
      instanceId: a.instanceId,
      address: a.address,
      token,
      record: false,
      // Frames are parsed with the protocol's frame schemas; the snapshot body is not validated again here (the console
      // built it from validated state): the push rounds time the console, not the simulator's zod passes.
      checkSnapshots: false,
      onFrame: (f) => {
        if (f.type !== "snapshot") return;
        if (f.snapshotError) {
          clearTimeout(t);
          reject(new Error(`${a.instanceId}: snapshot v${f.version} does not parse: ${f.snapshotError}`));
          return;
        }
        agent.acks.push([f.version, now()]);
        if (agent.acks.length > 50) agent.acks.splice(0, 25);
        if (agent.snapshots++ === 0) {
          clearTimeout(t);
          resolve(agent);
        }
      },
    });
    agent.fake.connect().catch((e) => {
      clearTimeout(t);
      reject(e);
    });
    agents.push(agent);
  });
}

async function join({ url, token, list, concurrency = 50 }) {
  let next = 0;
  const work = async () => {
    while (next < list.length) await connectOne(url, token, list[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, work));
}

const telemetryFrame = (windowStart, edges) =>
  `{"type":"telemetry","window":{"windowStart":${windowStart},"windowMs":1000,"edges":${edges},"spans":[]}}`;

/** The edge variants are prebuilt JSON (a thousand frames a second): each is validated with the protocol's schema once, here. */
function checkTelemetry(variants) {
  for (const edges of variants) {
    const r = agentFrameSchema.safeParse(JSON.parse(telemetryFrame(0, edges)));
    if (!r.success) throw new Error(`simulated telemetry is not a valid frame: ${r.error.message.slice(0, 300)}`);
  }
}

function sendTelemetry(agent) {
  if (!agent.telemetry || !agent.fake.isOpen) return;
  const variants = agent.telemetry;
  const edges = variants[Math.floor(Math.random() * variants.length)];
  agent.fake.send(telemetryFrame(Math.floor(Date.now() / 1000) * 1000 - 1000, edges));
}

const handlers = {
  join: async (m) => {
    await join(m);
    return { agents: agents.length };
  },
  /** For each agent: time (epoch ms, µs precision) of its first ack of a version ≥ m.version, or null. */
  ackTimes: (m) => ({ times: agents.map((a) => a.acks.find(([v]) => v >= m.version)?.[1] ?? null) }),
  maxAcked: () => ({ versions: agents.map((a) => (a.acks.length ? a.acks[a.acks.length - 1][0] : 0)) }),
  /** m.edges: { instanceId: [edgesJson variant, …] }; frames spread evenly over the second (random phase). */
  telemetry: (m) => {
    for (const a of agents) {
      if (a.timer) clearInterval(a.timer);
      a.timer = null;
      a.telemetry = m.edges?.[a.instanceId] ?? null;
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
      clearInterval(a.timer);
      clearTimeout(a.timer);
      a.fake.close();
    }
    setTimeout(() => process.exit(0), 200);
    return {};
  },
};

process.on("message", async (m) => {
  try {
    const r = await handlers[m.cmd](m);
    process.send({ id: m.id, ok: true, ...r });
  } catch (e) {
    process.send({ id: m.id, ok: false, error: String(e?.message ?? e) });
  }
});
process.on("disconnect", () => process.exit(0));

#!/usr/bin/env node
/**
 * A worker process hosting many simulated agents, each on its own real websocket to the console's /ws/agents,
 * speaking the real protocol: hello with the join token, ack of every snapshot (recording when), telemetry frames
 * once a second. Driven by the parent over IPC ({id, cmd, ...} → {id, ...}); see SimFleet in control-plane.mjs.
 */
import WebSocket from "ws";

const agents = [];
const now = () => performance.timeOrigin + performance.now();

function connectOne(url, token, a) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const agent = { ...a, ws, acks: [], telemetry: null, timer: null, snapshots: 0 };
    const t = setTimeout(() => reject(new Error(`${a.instanceId}: no snapshot within 60 s`)), 60_000);
    ws.on("message", (data) => {
      const text = data.toString();
      // Only the head of the frame is needed: type, version, nonce come first in the console's JSON.
      const head = text.slice(0, 200);
      if (!head.startsWith('{"type":"snapshot"')) return;
      const version = Number(/"version":(\d+)/.exec(head)[1]);
      const nonce = /"nonce":"([^"]+)"/.exec(head)[1];
      ws.send(`{"type":"ack","version":${version},"nonce":"${nonce}"}`);
      agent.acks.push([version, now()]);
      if (agent.acks.length > 50) agent.acks.splice(0, 25);
      if (agent.snapshots++ === 0) {
        clearTimeout(t);
        resolve(agent);
      }
    });
    ws.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    ws.on("open", () =>
      ws.send(
        JSON.stringify({
          type: "hello",
          protocol: 1,
          token,
          service: a.service,
          version: a.version,
          instanceId: a.instanceId,
          inboundAddress: a.address,
          ports: { inbound: 1, outbound: 2, admin: 3, app: 4 },
          agentVersion: "bench-sim",
          configVersion: 0,
        }),
      ),
    );
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

function sendTelemetry(agent) {
  if (!agent.telemetry || agent.ws.readyState !== WebSocket.OPEN) return;
  const variants = agent.telemetry;
  const edges = variants[Math.floor(Math.random() * variants.length)];
  const windowStart = Math.floor(Date.now() / 1000) * 1000 - 1000;
  agent.ws.send(`{"type":"telemetry","window":{"windowStart":${windowStart},"windowMs":1000,"edges":${edges},"spans":[]}}`);
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
      a.ws.close();
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

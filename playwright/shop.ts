/**
 * The demo shop the browser tests run against (playwright.config.ts starts it with the console, as `npm start` does):
 * calls into the mesh through web's own agent (as the web app makes them), so a spec can put a known load on a
 * service, and the console's join token and agents URL, so a spec can deploy one more instance (a new version).
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

const dataDir = () => process.env.PLAYWRIGHT_DATA_DIR!;

/** web's outbound port, from the shop's ports table. */
export function webOutboundPort(): number {
  const ports = JSON.parse(readFileSync(join(dataDir(), "shop", "ports.json"), "utf8")) as { instances: { service: string; outbound?: number }[] };
  const outbound = ports.instances.find((i) => i.service === "web" && i.outbound)?.outbound;
  if (!outbound) throw new Error("web's outbound port is not in the shop's ports table");
  return outbound;
}

export interface MeshTraffic {
  /** Answers by status code so far. */
  statuses: Map<number, number>;
  stop(): void;
}

/** `rps` calls a second to `http://<service><path>` through web's agent until stopped (bounded by the caller's test). */
export function startMeshTraffic(o: { service: string; path: string; rps: number; method?: string; body?: () => unknown }): MeshTraffic {
  const outbound = webOutboundPort();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const statuses = new Map<number, number>();
  const timer = setInterval(() => {
    const body = o.body ? JSON.stringify(o.body()) : undefined;
    const req = http.request(
      {
        host: "127.0.0.1",
        port: outbound,
        method: o.method ?? "GET",
        path: `http://${o.service}${o.path}`,
        agent,
        headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : undefined,
      },
      (res) => {
        statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
        res.resume();
      },
    );
    req.on("error", () => {});
    req.end(body);
  }, 1000 / o.rps);
  return {
    statuses,
    stop() {
      clearInterval(timer);
      agent.destroy();
    },
  };
}

/** What an extra shop instance needs to join the console the browser tests use. */
export function consoleForAgents(baseURL: string): { wsAgents: string; token: string } {
  return { wsAgents: `${baseURL.replace(/^http/, "ws")}/ws/agents`, token: readFileSync(join(dataDir(), "join-token"), "utf8").trim() };
}

/**
 * One instance of a demo-shop service (examples/shop's built app) behind its own real agent, joined to a console: what
 * integration tests build small meshes from, and what browser tests deploy as a new version next to the running shop.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type AgentHandle, type ConsoleHandle, repoRoot, startAgent } from "./mesh.ts";
import { ProcessGroup } from "./process.ts";
import { eventually, freePort } from "./wait.ts";

const shopApp = join(repoRoot, "examples/shop/dist/app.js");

export interface ShopService {
  app: ProcessGroup;
  agent: AgentHandle;
  /** Stops the agent, then the app. */
  stop(): Promise<void>;
}

/**
 * `service` as `version` (default v1), joined to `c` (its /ws/agents URL and a join token). The app is started knowing
 * its agent's outbound port, and the agent binds exactly that port. Resolves once the agent is ready (/ready: a
 * snapshot applied and, as calls between agents run over mTLS by default, its certificate held).
 */
export async function startShopService(c: Pick<ConsoleHandle, "wsAgents" | "token">, service: string, version = "v1"): Promise<ShopService> {
  if (!existsSync(shopApp)) throw new Error(`${shopApp} is missing: run npm run build`);
  const appPort = await freePort();
  const outbound = await freePort();
  const app = new ProcessGroup(`${service} ${version} app`, process.execPath, [shopApp], {
    env: {
      NODE_ENV: "production",
      SERVICE: service,
      VERSION: version,
      PORT: String(appPort),
      OUTBOUND_PORT: String(outbound),
      INSTANCE_ID: `${service}-${version}-1`,
    },
  });
  await app.waitFor((l) => l.msg === "app listening", 15_000, `${service} app listening`);
  const agent = await startAgent({ service, version, appPort, console: c.wsAgents, token: c.token, args: ["--outbound-port", String(outbound)] });
  await eventually(async () => (await fetch(`http://127.0.0.1:${agent.admin}/ready`)).status === 200, 15_000, `${service}'s agent ready`);
  return {
    app,
    agent,
    async stop() {
      await agent.stop();
      await app.stop("SIGTERM", 3_000);
    },
  };
}

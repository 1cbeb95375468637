/**
 * The system under test: the real console (the kit's `startConsole`, SQLite in a temp dir, the shop's seed policies)
 * and the demo shop through its own launcher (`examples/shop/dist/launch.js`, which supervises and restarts every app
 * and agent it started: a killed instance comes back as it would under `npm start`). Where each instance's processes
 * are is read from the launcher's ports.json, which it rewrites after every restart.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ConsoleHandle, eventually, ProcessGroup, repoRoot, startConsole, tempDir } from "@trellis/testkit";
import type { InstanceRow } from "../examples/shop/src/launch.ts";

export class Mesh {
  console!: ConsoleHandle;
  shop!: ProcessGroup;
  readonly stateRoot = tempDir("chaos-shop");
  private consolePort = 0;
  private consoleDataDir = "";

  async start(): Promise<void> {
    await this.startConsole();
    this.shop = new ProcessGroup(
      "shop",
      process.execPath,
      [
        join(repoRoot, "examples/shop/dist/launch.js"),
        "--console",
        this.console.wsAgents,
        "--state-root",
        this.stateRoot,
        "--no-load",
        "--exit-with-parent",
      ],
      { cwd: repoRoot, env: { TRELLIS_JOIN_TOKEN: this.console.token, NODE_ENV: "production" } },
    );
    await this.shop.waitFor((l) => l.msg === "shop ready", 180_000, "shop ready");
  }

  /** (Re)starts the console on the same port and data dir: agents reconnect to the address they know. */
  async startConsole(): Promise<void> {
    this.console = await startConsole({
      port: this.consolePort,
      dataDir: this.consoleDataDir || undefined,
      env: { TRELLIS_SEED_FILE: "examples/shop/mesh-seed.json" },
      timeoutMs: 120_000,
    });
    this.consolePort = Number(new URL(this.console.url).port);
    this.consoleDataDir = this.console.dataDir;
  }

  instances(): InstanceRow[] {
    return (JSON.parse(readFileSync(join(this.stateRoot, "ports.json"), "utf8")) as { instances: InstanceRow[] }).instances;
  }

  instance(id: string): InstanceRow {
    const i = this.instances().find((x) => x.id === id);
    if (!i) throw new Error(`no instance ${id} in the shop`);
    return i;
  }

  stateDir(id: string): string {
    return join(this.stateRoot, id);
  }

  /** The web instance's agent inbound port: where outside traffic enters the mesh. */
  webInbound(): number {
    const web = this.instances().find((i) => i.service === "web");
    if (!web?.inbound) throw new Error("the shop has no web agent port");
    return web.inbound;
  }

  /** Waits until the launcher reports a new, ready process for `which` of `id` (pid differs from `oldPid`). */
  async restarted(id: string, which: "app" | "agent", oldPid: number | undefined, timeoutMs = 60_000): Promise<InstanceRow> {
    return eventually(
      async () => {
        const i = this.instance(id);
        const pid = i.pids?.[which];
        return pid && pid !== oldPid && (which === "app" || i.ready) ? i : null;
      },
      timeoutMs,
      `${id}'s ${which} restarted`,
    );
  }
}

/**
 * The shop in capture mode: every instance in a "pod" of its own (a network namespace with its own address,
 * PodNetwork), its app unchanged — it listens on 0.0.0.0:8080 and calls `http://catalog:8080/…` by name with no
 * proxy — and its agent as UID 1337 behind `trellis-agent init-capture` rules. The pods' /etc/hosts names each service
 * after its first instance's address (which address does not matter: capture routes by Host, the agent balances over
 * all instances). The console stays on 127.0.0.1, serving TLS; a relay on the bridge's host address lets the agents
 * reach it (the TCP relay leaves TLS end to end: agents verify the console's certificate for "localhost").
 * Linux + root only: `captureUnsupported()` says why not, and what to do, anywhere else.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { namespaceSupport, type Pod, PodNetwork } from "@trellis/testkit/netns";
import type { InstanceSpec } from "./topology.ts";

export const CAPTURE = { appPort: 8080, outbound: 15001, inbound: 15006, admin: 15020, proxyUid: 1337 } as const;

/** Why capture mode cannot run here (and what to do), or null. */
export function captureUnsupported(): string | null {
  const why = namespaceSupport();
  return why && `--capture: ${why}. Without --capture the shop runs in explicit mode (each app addresses its agent).`;
}

/** A program and its arguments, as a process group takes them. */
export type Argv = [command: string, args: string[]];

export class ShopPods {
  private readonly net: PodNetwork;
  private relay?: net.Server;
  /** ws:// URL of the console as the agents in the pods reach it (through the relay). */
  consoleUrl?: string;
  /** The join token, read here (as root) and handed to the agents in their environment: they run as UID 1337. */
  token = process.env.TRELLIS_JOIN_TOKEN ?? "";

  constructor(specs: readonly InstanceSpec[]) {
    const seen = new Set<string>();
    this.net = new PodNetwork(
      specs.map((s) => {
        const first = !seen.has(s.service);
        seen.add(s.service);
        return { name: s.id, aliases: first ? [s.service] : [] };
      }),
    );
  }

  /** Creates the pods and, for a console on this machine, the relay to it. */
  async create(consoleWs?: string, tokenFile?: string): Promise<void> {
    if (tokenFile) this.token = fs.readFileSync(tokenFile, "utf8").trim();
    this.net.create();
    if (!consoleWs) return;
    const url = new URL(consoleWs);
    const [host, port] = [url.hostname, Number(url.port || 80)];
    const relay = net.createServer((inbound) => {
      const out = net.connect(port, host);
      inbound.pipe(out).pipe(inbound);
      inbound.on("error", () => out.destroy());
      out.on("error", () => inbound.destroy());
    });
    await new Promise<void>((resolve, reject) => relay.once("error", reject).listen(0, this.net.hostIp, resolve));
    this.relay = relay;
    url.hostname = this.net.hostIp;
    url.port = String((relay.address() as net.AddressInfo).port);
    this.consoleUrl = url.toString();
  }

  pod(spec: InstanceSpec): Pod {
    return this.net.pod(spec.id);
  }

  /** What makes the app an unmeshed app in a pod: its normal port on every address, calls by name, no proxy. */
  readonly appEnv = { PORT: String(CAPTURE.appPort), LISTEN_HOST: "0.0.0.0", DIRECT_PORT: String(CAPTURE.appPort) };

  /** `argv` run inside the instance's pod (optionally as another UID). */
  inPod(spec: InstanceSpec, argv: string[], uid?: number): Argv {
    const [command, ...args] = this.net.exec(this.pod(spec), argv, uid);
    return [command, args];
  }

  /** Installs the capture rules in the instance's pod (idempotent). */
  installRules(spec: InstanceSpec, agentCli: string): void {
    const flags = [
      "--outbound-port",
      CAPTURE.outbound,
      "--inbound-port",
      CAPTURE.inbound,
      "--admin-port",
      CAPTURE.admin,
      "--proxy-uid",
      CAPTURE.proxyUid,
    ];
    const [command, ...args] = this.net.exec(this.pod(spec), [process.execPath, agentCli, "init-capture", ...flags.map(String)]);
    execFileSync(command, args, { timeout: 15_000, stdio: ["ignore", "ignore", "pipe"] });
  }

  /** The agent, in its pod, as the proxy UID, in capture mode with the fixed ports the rules name; and its env. */
  agent(spec: InstanceSpec, agentCli: string, flags: string[], stateDir: string): { argv: Argv; env: NodeJS.ProcessEnv } {
    reachable(stateDir);
    chownTree(stateDir, CAPTURE.proxyUid);
    const capture = ["--capture", "--advertise-host", this.pod(spec).ip, "--app-port", String(CAPTURE.appPort)];
    capture.push("--outbound-port", String(CAPTURE.outbound), "--inbound-port", String(CAPTURE.inbound), "--admin-port", String(CAPTURE.admin));
    const argv = this.inPod(spec, [process.execPath, agentCli, ...flags, ...capture], CAPTURE.proxyUid);
    return { argv, env: { TRELLIS_JOIN_TOKEN: this.token } };
  }

  /** A copy of the console's CA in the agent's state dir: the agent runs as the proxy UID, the original is root's. */
  consoleCaFor(stateDir: string, caFile: string): string {
    reachable(stateDir);
    const copy = path.join(stateDir, "console-ca.crt");
    fs.writeFileSync(copy, fs.readFileSync(caFile), { mode: 0o644 });
    return copy;
  }

  /** Where the launcher (on the host) reaches the instance's admin listener: not redirected, by design. */
  admin(spec: InstanceSpec): { host: string; port: number } {
    return { host: this.pod(spec).ip, port: CAPTURE.admin };
  }

  /** Deletes the pods (stop their processes first) and the relay. */
  destroy(): void {
    this.relay?.close();
    this.net.destroy();
  }
}

function chownTree(path: string, uid: number): void {
  fs.chownSync(path, uid, uid);
  if (fs.statSync(path).isDirectory()) for (const f of fs.readdirSync(path)) chownTree(`${path}/${f}`, uid);
}

/** The agents run as the proxy UID: every directory above their state dirs must let others through (o+x). */
function reachable(dir: string): void {
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0)
      throw new Error(`the agents run as UID ${CAPTURE.proxyUid} and cannot reach ${dir}: ${d} is not searchable (chmod o+x ${d})`);
    if (d === path.dirname(d)) return;
  }
}

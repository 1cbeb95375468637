/**
 * "Pods" as Linux network namespaces on this machine, for capture mode (the capture test, the shop's --capture; root
 * only). Topology:
 *
 *   host ns: veth <id>h 10.250.<k>.1/24 ──┐
 *   <id>-hub ns: bridge br0 ──────────────┼── pod veths (eth0 10.250.<k>.<10+i>/24 inside each pod namespace)
 *
 * The bridge lives in a namespace of its own (its iptables are empty, whatever the host's FORWARD policy is); the host
 * end of one veth carries 10.250.<k>.1 so that processes on the host (the console, the test) reach the pods and the
 * pods reach the console. Pods have no default route: nothing leaves the /24, nothing is routed off the machine.
 * Names come from /etc/netns/<ns>/hosts (`ip netns exec` bind-mounts it over /etc/hosts). `destroy()` deletes the
 * namespaces (which deletes their veths), the host veth and the /etc/netns dirs, and is safe to call twice.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";

export interface Pod {
  name: string;
  ns: string;
  ip: string;
  /** More names for this pod's address in every pod's /etc/hosts (e.g. its service's name). */
  aliases: string[];
}

function sh(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: "utf8", timeout: 15_000, stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Why this machine cannot run pods as network namespaces with capture rules, with what to do about it; null when it
 * can. Checks for real: Linux, root, the programs, and that a namespace can be created (containers often forbid it).
 */
export function namespaceSupport(): string | null {
  if (process.platform !== "linux") return "capture mode needs Linux (network namespaces and iptables)";
  if (process.getuid?.() !== 0) return "capture mode needs root to create network namespaces and iptables rules: run it with sudo";
  for (const bin of ["ip", "iptables", "iptables-restore", "setpriv"])
    try {
      sh(["sh", "-c", `command -v ${bin}`]);
    } catch {
      return `${bin} is missing: apt-get install -y iproute2 iptables util-linux`;
    }
  const probe = `trprobe${process.pid}`;
  try {
    sh(["ip", "netns", "add", probe]);
    sh(["ip", "netns", "exec", probe, "iptables", "-t", "nat", "-S"]);
  } catch (err) {
    const why = String((err as { stderr?: string }).stderr ?? err).trim();
    return `this machine does not allow network namespaces with iptables (${why}); in a container, give it CAP_SYS_ADMIN and CAP_NET_ADMIN (e.g. --privileged)`;
  } finally {
    try {
      sh(["ip", "netns", "del", probe]);
    } catch {
      /* never created */
    }
  }
  return null;
}

/** Fails at once, with what to do, when this process cannot create namespaces and capture rules. */
export function requireNamespaces(): void {
  const why = namespaceSupport();
  if (why !== null) throw new Error(`the capture test cannot run: ${why}`);
}

export class PodNetwork {
  readonly id: string;
  readonly subnet: string;
  readonly hostIp: string;
  readonly pods: Pod[] = [];
  private readonly hub: string;
  private readonly hostLink: string;
  private destroyed = false;

  /** Pods by name (also their host name), optionally with aliases: `["web", { name: "catalog-1", aliases: ["catalog"] }]`. */
  constructor(specs: (string | { name: string; aliases?: string[] })[]) {
    this.id = `tr${process.pid}`; // interface names stay within 15 characters: tr<pid ≤ 7 digits>p<i>
    const used = sh(["ip", "-4", "-o", "addr"]) + sh(["ip", "-4", "route"]);
    let k = 100 + (process.pid % 150);
    while (used.includes(`10.250.${k}.`)) k = k === 254 ? 1 : k + 1;
    this.subnet = `10.250.${k}`;
    this.hostIp = `${this.subnet}.1`;
    this.hub = `${this.id}-hub`;
    this.hostLink = `${this.id}h`;
    if (specs.length > 200) throw new Error("at most 200 pods");
    for (const [i, spec] of specs.entries()) {
      const { name, aliases = [] } = typeof spec === "string" ? { name: spec } : spec;
      this.pods.push({ name, ns: `${this.id}-${name}`, ip: `${this.subnet}.${10 + i}`, aliases });
    }
  }

  /** Removes what an earlier run killed before its cleanup left behind (names carry the dead run's pid). */
  static sweepStale(): void {
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const line of sh(["ip", "netns", "list"]).split("\n")) {
      const m = /^(tr(\d+))-\S+/.exec(line);
      if (!m || alive(Number(m[2]))) continue;
      const ns = m[0];
      for (const args of [
        ["ip", "netns", "del", ns],
        ["ip", "link", "del", `${m[1]}h`],
      ])
        try {
          sh(args);
        } catch {
          /* already gone */
        }
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  }

  create(): void {
    PodNetwork.sweepStale();
    const hub = this.hub;
    sh(["ip", "netns", "add", hub]);
    sh(["ip", "-n", hub, "link", "add", "br0", "type", "bridge"]);
    sh(["ip", "-n", hub, "link", "set", "br0", "up"]);
    sh(["ip", "link", "add", this.hostLink, "type", "veth", "peer", "name", `${this.id}hp`]);
    sh(["ip", "link", "set", `${this.id}hp`, "netns", hub]);
    sh(["ip", "-n", hub, "link", "set", `${this.id}hp`, "master", "br0", "up"]);
    sh(["ip", "addr", "add", `${this.hostIp}/24`, "dev", this.hostLink]);
    sh(["ip", "link", "set", this.hostLink, "up"]);
    const hosts = ["127.0.0.1 localhost", ...this.pods.map((p) => [p.ip, p.name, ...p.aliases].join(" ")), ""].join("\n");
    for (const [i, pod] of this.pods.entries()) {
      const a = `${this.id}p${i}`;
      const b = `${this.id}q${i}`;
      sh(["ip", "netns", "add", pod.ns]);
      sh(["ip", "-n", pod.ns, "link", "set", "lo", "up"]);
      sh(["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
      sh(["ip", "link", "set", a, "netns", pod.ns]);
      sh(["ip", "-n", pod.ns, "link", "set", a, "name", "eth0"]);
      sh(["ip", "-n", pod.ns, "addr", "add", `${pod.ip}/24`, "dev", "eth0"]);
      sh(["ip", "-n", pod.ns, "link", "set", "eth0", "up"]);
      sh(["ip", "link", "set", b, "netns", hub]);
      sh(["ip", "-n", hub, "link", "set", b, "master", "br0", "up"]);
      mkdirSync(`/etc/netns/${pod.ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${pod.ns}/hosts`, hosts);
    }
  }

  pod(name: string): Pod {
    const p = this.pods.find((x) => x.name === name);
    if (!p) throw new Error(`no pod ${name}`);
    return p;
  }

  /** The argv that runs `command` inside a pod, optionally as another UID/GID (setpriv). */
  exec(pod: Pod, command: string[], uid?: number): string[] {
    const as = uid === undefined ? [] : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups"];
    return ["ip", "netns", "exec", pod.ns, ...as, ...command];
  }

  /** Runs an ES module snippet with node inside a pod; resolves with its stdout (bounded: 15 s). */
  node(pod: Pod, code: string, uid?: number): Promise<{ code: number; stdout: string; stderr: string }> {
    const argv = this.exec(pod, [process.execPath, "--input-type=module", "-e", code], uid);
    return new Promise((resolve) => {
      execFile(argv[0], argv.slice(1), { timeout: 15_000, encoding: "utf8" }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) || 1 : 0, stdout, stderr }),
      );
    });
  }

  /** Deletes everything `create()` made (also what a half-finished `create()` made). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const quiet = (args: string[]) => {
      try {
        sh(args);
      } catch {
        /* already gone */
      }
    };
    for (const pod of this.pods) {
      quiet(["ip", "netns", "del", pod.ns]);
      rmSync(`/etc/netns/${pod.ns}`, { recursive: true, force: true });
    }
    quiet(["ip", "netns", "del", this.hub]);
    quiet(["ip", "link", "del", this.hostLink]);
  }
}

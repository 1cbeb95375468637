/**
 * `trellis check [-f <file|dir>]`, like `linkerd check`: policy files valid (offline, the protocol's schemas), the
 * console reachable, the token accepted, every connected agent SYNCED to the current config version (a NACKED or
 * STALE agent fails, with its reason), their certificates valid and not close to expiry (check-certs.ts). Prints one line per check; exits 1 when any failed.
 */
import type { Args } from "../args.ts";
import { ApiError, type ConsoleClient } from "../client.ts";
import { resolveTarget } from "../config.ts";
import { loadPolicyFiles } from "../policy-file.ts";
import { type CertifiedAgent, certificateProblem } from "./check-certs.ts";

interface Agent extends CertifiedAgent {
  service: string;
  instanceId: string;
  syncState: string;
  ackedVersion: number;
  syncError: string | null;
}

/** Raised after the report is printed, to exit 1. */
export class ChecksFailed extends Error {
  readonly fileError = true;
}

const ok = (s: string) => `√ ${s}\n`;
const bad = (s: string) => `× ${s}\n`;

async function live(client: ConsoleClient, consoleUrl: string): Promise<string[]> {
  const lines: string[] = [];
  try {
    const res = await fetch(`${consoleUrl}/healthz`);
    if (!res.ok) return [bad(`console at ${consoleUrl}: /healthz ${res.status}`)];
    lines.push(ok(`console reachable at ${consoleUrl}`));
  } catch (err) {
    return [bad(`console at ${consoleUrl} unreachable: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`)];
  }
  let r: { configVersion: number; agents: Agent[] };
  try {
    r = await client.query("agents.list", { connectedOnly: true });
  } catch (err) {
    if (err instanceof ApiError) return [...lines, bad(err.message)];
    throw err;
  }
  lines.push(ok("API token accepted"));
  const behind = r.agents.filter((a) => a.syncState !== "SYNCED" || a.ackedVersion !== r.configVersion);
  for (const a of behind)
    lines.push(
      bad(`${a.service}/${a.instanceId}: ${a.syncState} (acked v${a.ackedVersion} of v${r.configVersion})${a.syncError ? `: ${a.syncError}` : ""}`),
    );
  if (behind.length === 0) lines.push(ok(`${r.agents.length} agent(s) connected, all synced to config version v${r.configVersion}`));
  const certified = r.agents.filter((a) => a.certificate);
  const certProblems = certified.map((a) => certificateProblem(a)).filter((p) => p !== null);
  lines.push(...certProblems.map(bad));
  if (certProblems.length === 0) lines.push(ok(`${certified.length} agent certificate(s) valid and not close to expiry`));
  return lines;
}

export async function check(client: ConsoleClient | null, args: Args): Promise<string> {
  const lines: string[] = [];
  const files = args.flags.get("filename") ?? [];
  if (files.length > 0) {
    try {
      const docs = loadPolicyFiles(files);
      lines.push(ok(`${docs.length} policy document(s) valid`));
    } catch (err) {
      if (!(err as { fileError?: boolean }).fileError) throw err;
      lines.push(...(err as Error).message.split("\n").map(bad));
    }
  }
  // Offline: only files were asked for and no console is configured.
  if (client) lines.push(...(await live(client, resolveTarget(args).console)));
  else lines.push(ok("console not checked (offline: -f only, no console configured)"));
  const out = lines.join("");
  if (lines.some((l) => l.startsWith("×"))) {
    process.stdout.write(out);
    throw new ChecksFailed("some checks failed");
  }
  return out;
}

/**
 * Installs and removes the capture rules in the current network namespace with the real tools: `iptables -t nat -S`
 * to see what is there, `iptables` to remove our jumps and chains, `iptables-restore --noflush` to install. Applying
 * removes first, so running it twice leaves one copy; removing what is not there does nothing.
 */
import { spawnSync } from "node:child_process";
import { errors } from "../errors.ts";
import { type CaptureSpec, captureRestoreInput, removalArgs } from "./rules.ts";

function run(program: string, args: string[], input?: string): string {
  const r = spawnSync(program, args, { input, encoding: "utf8", timeout: 15_000 });
  if (r.error) throw errors.captureFailed(`${program} could not run (${(r.error as NodeJS.ErrnoException).code})`, r.error);
  if (r.status !== 0) throw errors.captureFailed(`${program} ${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`, null);
  return r.stdout;
}

/** The commands removal runs now (empty when capture is not installed). */
export function removeCapture(): string[][] {
  const commands = removalArgs(run("iptables", ["-t", "nat", "-S"]));
  for (const args of commands) run("iptables", ["-t", "nat", ...args]);
  return commands;
}

/** Installs the rules (replacing any earlier capture rules); returns the `iptables-restore` input it used. */
export function applyCapture(spec: CaptureSpec): string {
  removeCapture();
  const input = captureRestoreInput(spec);
  run("iptables-restore", ["--noflush"], input);
  return input;
}

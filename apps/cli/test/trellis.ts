/** Runs the built `trellis` binary (bin/trellis.mjs → dist/cli.js) as a process group and collects its result. */
import { fileURLToPath } from "node:url";
import { ProcessGroup } from "@trellis/testkit";

export const TRELLIS_BIN = fileURLToPath(new URL("../bin/trellis.mjs", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function trellis(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const p = new ProcessGroup("trellis", process.execPath, [TRELLIS_BIN, ...args], {
    // No config file of the machine's user leaks in; TRELLIS_* only as the test passes them.
    env: { TRELLIS_CONSOLE: "", TRELLIS_TOKEN: "", TRELLIS_CONFIG: "/nonexistent/trellis.json", ...env },
    cwd,
    keepLines: 10_000,
    onLine: (line, stream) => (stream === "stdout" ? out : err).push(line),
  });
  const e = await p.finished;
  return { code: e.code, stdout: out.map((l) => `${l}\n`).join(""), stderr: err.join("\n") };
}

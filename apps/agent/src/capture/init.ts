/**
 * `trellis-agent init-capture …`: the init step that installs (or, with `--remove`, removes) the capture rules in the
 * network namespace it runs in. Needs CAP_NET_ADMIN (root on a plain host; an init container with NET_ADMIN on
 * Kubernetes). `--dry-run` prints the `iptables-restore` input and changes nothing. Exit 0 on success, 1 when iptables
 * fails (the error names the command and its stderr), 2 on bad flags.
 */
import { TrellisError } from "../errors.ts";
import { applyCapture, removeCapture } from "./apply.ts";
import { parseCaptureArgs } from "./flags.ts";
import { captureRestoreInput } from "./rules.ts";

const say = (msg: string, fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level: "info", msg, ...fields })}\n`);

/** Runs the subcommand; returns the exit code. */
export function initCapture(argv: string[]): number {
  const { dryRun, spec } = parseCaptureArgs(argv);
  try {
    if (spec === null) {
      if (dryRun) return 0;
      say("capture rules removed", { commands: removeCapture().map((a) => a.join(" ")) });
    } else if (dryRun) {
      process.stdout.write(captureRestoreInput(spec));
    } else {
      say("capture rules installed", {
        ...spec,
        rules: applyCapture(spec)
          .split("\n")
          .filter((l) => l.startsWith("-A")),
      });
    }
    return 0;
  } catch (err) {
    if (!(err instanceof TrellisError)) throw err;
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level: "error", msg: err.message, code: err.code })}\n`);
    return 1;
  }
}

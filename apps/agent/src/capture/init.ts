/**
 * `trellis-agent init-capture …`: the init step that installs (or, with `--remove`, removes) the capture rules in the
 * network namespace it runs in. Needs CAP_NET_ADMIN (root on a plain host; an init container with NET_ADMIN on
 * Kubernetes). `--dry-run` prints the `iptables-restore` input and changes nothing. Exit 0 on success, 1 when iptables
 * fails (the error names the command and its stderr), 2 on bad flags.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../args.ts";
import { TrellisError } from "../errors.ts";
import { applyCapture, removeCapture } from "./apply.ts";
import { type CaptureSpec, captureRestoreInput } from "./rules.ts";

export const INIT_USAGE = `usage: trellis-agent init-capture --outbound-port <P> --inbound-port <Q> --proxy-uid <uid>
       [--admin-port <A>] [--exclude-outbound-ports p1,p2] [--exclude-inbound-ports p1,p2] [--dry-run]
       trellis-agent init-capture --remove`;

function portOf(name: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new UsageError(`--${name}: ${v} is not a port number`);
  return n;
}

function required(name: string, v: string | undefined): string {
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** The flags; `spec` is null for `--remove`. */
export function parseCaptureArgs(argv: string[]): { dryRun: boolean; spec: CaptureSpec | null } {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      "outbound-port": { type: "string" },
      "inbound-port": { type: "string" },
      "proxy-uid": { type: "string" },
      "admin-port": { type: "string" },
      "exclude-outbound-ports": { type: "string" },
      "exclude-inbound-ports": { type: "string" },
      remove: { type: "boolean" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (v.help) throw new UsageError(INIT_USAGE);
  if (v.remove) return { dryRun: v["dry-run"] ?? false, spec: null };
  const uid = required("proxy-uid", v["proxy-uid"]);
  if (!/^\d+$/.test(uid) || Number(uid) === 0)
    throw new UsageError("--proxy-uid must be a non-root numeric UID (root's traffic would escape capture)");
  const list = (name: "exclude-outbound-ports" | "exclude-inbound-ports") =>
    (v[name] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => portOf(name, p));
  return {
    dryRun: v["dry-run"] ?? false,
    spec: {
      outboundPort: portOf("outbound-port", required("outbound-port", v["outbound-port"])),
      inboundPort: portOf("inbound-port", required("inbound-port", v["inbound-port"])),
      proxyUid: Number(uid),
      adminPort: v["admin-port"] === undefined ? null : portOf("admin-port", v["admin-port"]),
      excludeOutboundPorts: list("exclude-outbound-ports"),
      excludeInboundPorts: list("exclude-inbound-ports"),
    },
  };
}

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

/** The init step's flags (`trellis-agent init-capture …`) → a CaptureSpec, or null for `--remove`. */
import { parseArgs } from "node:util";
import { UsageError } from "../args.ts";
import type { CaptureSpec } from "./rules.ts";

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

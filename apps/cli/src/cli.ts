/**
 * trellis — the Trellis command line. Talks to the console's API with an API token (Settings → API tokens).
 * Exit codes: 0 done, 1 refused or failed (the console's message, or an invalid file), 2 wrong use.
 */
import { type Args, parseArgs, UsageError } from "./args.ts";
import { ApiError, ConsoleClient } from "./client.ts";
import { apply, diff } from "./commands/apply.ts";
import { rollback, split } from "./commands/change.ts";
import { check } from "./commands/check.ts";
import { get } from "./commands/get.ts";
import { status } from "./commands/status.ts";
import { resolveTarget, type Target } from "./config.ts";

const HELP = `trellis — the Trellis service mesh from the command line

Usage:
  trellis status                               every agent: service, version, instance, config version, sync state, last seen
  trellis get services                         services, their versions and instances
  trellis get policy <service>                 a service's whole traffic policy
  trellis get revisions [--service <name>]     the config history
  trellis apply -f <file|dir>                  sets each file's service policy (YAML: service + policy, or an HTTPRoute)
  trellis diff -f <file|dir>                   what apply would change
  trellis check [-f <file|dir>]                files valid (offline); console reachable, agents synced; exit 1 on failure
  trellis rollback <revision>                  reverts what a revision changed (a new revision)
  trellis split <service> v1=90 v2=10          sets a service's weighted split

Flags:
  -o, --output table|json|yaml                 output format (get, status)
  --console <url>                              the console (else TRELLIS_CONSOLE, else the config file)
  --token <token>                              an API token (else TRELLIS_TOKEN, else the config file)
  -h, --help                                   this help

Config file: $TRELLIS_CONFIG or ~/.config/trellis/config.json  {"console": "https://…", "token": "trl_…"}
`;

type Verb = (client: ConsoleClient, args: Args) => Promise<string>;
const VERBS: Record<string, Verb> = { status, get, apply, diff, rollback, split };

function tryTarget(args: Args): Target | null {
  try {
    return resolveTarget(args);
  } catch (err) {
    if (err instanceof UsageError) return null;
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const verb = args.words[0];
  if (args.help || !verb || verb === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (verb === "check") {
    // Files alone can be checked offline: the console only when one is configured.
    const target = args.flags.has("filename") ? tryTarget(args) : resolveTarget(args);
    process.stdout.write(await check(target ? new ConsoleClient(target) : null, args));
    return 0;
  }
  const run = VERBS[verb];
  if (!run) throw new UsageError(`unknown command ${verb}`);
  process.stdout.write(await run(new ConsoleClient(resolveTarget(args)), args));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`trellis: ${err.message}\n(see trellis --help)\n`);
      process.exitCode = 2;
    } else if (err instanceof ApiError || (err as { fileError?: boolean }).fileError) {
      process.stderr.write(`trellis: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`trellis: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);

/** The command line: positional words and `--flag value` / `--flag=value` / `-o json` / `-f file` flags. */
export interface Args {
  words: string[];
  flags: Map<string, string[]>;
  help: boolean;
}

const SHORT: Record<string, string> = { o: "output", f: "filename", h: "help" };
const BOOLEAN = new Set(["help"]);

export function parseArgs(argv: readonly string[]): Args {
  const words: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (k: string, v: string) => flags.set(k, [...(flags.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^(?:--([a-z][a-z-]*)|-([a-z]))(?:=(.*))?$/.exec(a);
    if (!m) {
      words.push(a);
      continue;
    }
    const name = m[1] ?? SHORT[m[2]] ?? m[2];
    if (m[3] !== undefined) add(name, m[3]);
    else if (BOOLEAN.has(name)) add(name, "true");
    else if (i + 1 < argv.length) add(name, argv[++i]);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { words, flags, help: flags.has("help") };
}

export function flag(args: Args, name: string): string | undefined {
  const v = args.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}

/** Wrong use of the command line: printed with a hint, exit code 2. */
export class UsageError extends Error {}

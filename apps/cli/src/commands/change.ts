/** `trellis rollback <revision>` and `trellis split <service> v1=90 v2=10`: one change each, printed as the console recorded it. */
import { type Args, UsageError } from "../args.ts";
import type { ConsoleClient } from "../client.ts";

interface Revision {
  id: number;
  summary: string;
  configVersion: number;
}

export async function rollback(client: ConsoleClient, args: Args): Promise<string> {
  const id = Number(args.words[1]);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError("usage: trellis rollback <revision id>");
  const r = await client.mutate<{ revision: Revision | null; configVersion: number }>("revisions.rollback", { id });
  return r.revision
    ? `revision ${id} rolled back: revision ${r.revision.id} (${r.revision.summary}), config version v${r.configVersion}\n`
    : `revision ${id}: nothing to roll back\n`;
}

export function parseSplit(words: readonly string[]): { version: string; weight: number }[] {
  if (words.length === 0) throw new UsageError("usage: trellis split <service> <version>=<weight> ... (weights sum to 100)");
  return words.map((w) => {
    const m = /^([^=]+)=(\d+)$/.exec(w);
    if (!m) throw new UsageError(`${w}: expected <version>=<weight>, e.g. v1=90`);
    return { version: m[1], weight: Number(m[2]) };
  });
}

export async function split(client: ConsoleClient, args: Args): Promise<string> {
  const [, service, ...entries] = args.words;
  if (!service) throw new UsageError("usage: trellis split <service> <version>=<weight> ...");
  const weights = parseSplit(entries);
  const r = await client.mutate<{ revision: Revision | null; configVersion: number }>("traffic.setSplit", { service, split: weights });
  const text = weights.map((w) => `${w.version}=${w.weight}`).join(" ");
  return r.revision ? `${service}: split ${text} (revision ${r.revision.id}, config version v${r.configVersion})\n` : `${service}: split unchanged\n`;
}

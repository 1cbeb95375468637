/**
 * `trellis apply -f <file|dir>` and `trellis diff -f <file|dir>`: each document replaces a service's whole traffic
 * policy (fields it leaves out are cleared), an HTTPRoute its routes and split. Every document is validated (schemas, then the service's known versions)
 * before anything is sent, so an invalid file stores nothing.
 */
import { type ServicePolicy, servicePolicySchema, servicePolicyShape } from "@trellis/protocol";
import type { Args } from "../args.ts";
import { UsageError } from "../args.ts";
import type { ConsoleClient } from "../client.ts";
import { FileError, loadPolicyFiles, type PolicyDoc, versionProblems } from "../policy-file.ts";

const FIELDS = Object.keys(servicePolicyShape) as (keyof ServicePolicy)[];

interface Planned {
  doc: PolicyDoc;
  changes: string[];
}

const show = (v: unknown) => JSON.stringify(v);

/** What applying `doc` over `current` changes, one line per field. */
export function fieldChanges(current: ServicePolicy, next: ServicePolicy, fields: readonly (keyof ServicePolicy)[] = FIELDS): string[] {
  const out: string[] = [];
  for (const k of fields) {
    const [a, b] = [current[k], next[k]];
    if (show(a) === show(b)) continue;
    if (a === undefined) out.push(`+ ${k}: ${show(b)}`);
    else if (b === undefined) out.push(`- ${k}: ${show(a)}`);
    else out.push(`~ ${k}: ${show(a)} → ${show(b)}`);
  }
  return out;
}

async function plan(client: ConsoleClient, args: Args): Promise<Planned[]> {
  const files = args.flags.get("filename") ?? [];
  if (files.length === 0) throw new UsageError(`usage: trellis ${args.words[0]} -f <file|dir> [-f ...]`);
  const docs = loadPolicyFiles(files);
  const planned: Planned[] = [];
  const problems: string[] = [];
  for (const doc of docs) {
    const r = await client.query<{ versions: string[]; policy: unknown }>("traffic.get", { service: doc.service });
    problems.push(...versionProblems(doc, r.versions));
    const current = servicePolicySchema.safeParse(r.policy ?? {});
    planned.push({ doc, changes: fieldChanges(current.success ? current.data : {}, doc.policy, doc.fields) });
  }
  if (problems.length > 0) throw new FileError(problems.join("\n"));
  return planned;
}

export async function diff(client: ConsoleClient, args: Args): Promise<string> {
  return (await plan(client, args))
    .map(({ doc, changes }) => `${doc.service} (${doc.file}):\n${changes.length ? changes.map((c) => `  ${c}\n`).join("") : "  no changes\n"}`)
    .join("");
}

export async function apply(client: ConsoleClient, args: Args): Promise<string> {
  let out = "";
  for (const { doc, changes } of await plan(client, args)) {
    if (changes.length === 0) {
      out += `${doc.service}: unchanged\n`;
      continue;
    }
    const patch = Object.fromEntries(doc.fields.map((k) => [k, doc.policy[k] ?? null]));
    const r = await client.mutate<{ revision: { id: number } | null; configVersion: number }>("traffic.update", { service: doc.service, patch });
    out += `${doc.service}: configured (${changes.length} field(s); revision ${r.revision?.id ?? "-"}, config version v${r.configVersion})\n`;
  }
  return out;
}

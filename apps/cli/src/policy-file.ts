/**
 * Declarative policy files for `apply` / `diff`: YAML (several documents per file allowed; a directory means every
 * *.yaml / *.yml / *.json in it, sorted), each document a service's whole traffic policy:
 *
 *   kind: ServicePolicy        # optional
 *   service: payments
 *   policy: { split: [...], timeoutMs: 2000, retries: {...} }
 *
 * or a Gateway API HTTPRoute in its mesh form (httproute.ts), which sets the service's routes and split.
 *
 * Validated with the protocol's own schemas before anything is sent; every problem names file, line and field.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { policyVersionIssues, type ServicePolicy, servicePolicySchema } from "@trellis/protocol";
import { type Document, LineCounter, parseAllDocuments } from "yaml";
import { type Path, readDocument } from "./policy-document.ts";

export interface PolicyDoc {
  file: string;
  service: string;
  policy: ServicePolicy;
  /** The policy fields the document sets (a ServicePolicy: all of them; an HTTPRoute: routes and split). */
  fields: (keyof ServicePolicy)[];
  /** Where a policy field (its path inside the policy) is written: `file:line:col`. */
  locate(policyPath: (string | number)[]): string;
}

const pathOf = (p: readonly PropertyKey[]): Path => p.map((k) => (typeof k === "symbol" ? String(k) : k));

/** An invalid file: every problem, one per line; exit code 1 (nothing was sent). */
export class FileError extends Error {
  readonly fileError = true;
}

export function filesOf(target: string): string[] {
  if (!statSync(target, { throwIfNoEntry: false })) throw new FileError(`${target}: no such file or directory`);
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target)
    .filter((n) => /\.(ya?ml|json)$/.test(n))
    .sort()
    .map((n) => join(target, n));
}

function locator(file: string, doc: Document, lines: LineCounter) {
  return (path: (string | number)[]): string => {
    // The deepest node that exists on the path (a missing field is reported where it should have been).
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        const p = lines.linePos(node.range[0]);
        return `${file}:${p.line}:${p.col}`;
      }
    }
    return file;
  };
}

export function loadPolicyFiles(targets: readonly string[]): PolicyDoc[] {
  const docs: PolicyDoc[] = [];
  const problems: string[] = [];
  for (const file of targets.flatMap(filesOf)) {
    const lines = new LineCounter();
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"), { lineCounter: lines })) {
      const at = locator(file, doc, lines);
      for (const e of doc.errors) {
        const p = lines.linePos(e.pos[0]);
        problems.push(`${file}:${p.line}:${p.col}: ${e.message.split("\n")[0]}`);
      }
      if (doc.errors.length > 0) continue;
      const raw = doc.toJS() as unknown;
      if (raw === null) continue; // an empty document (a trailing ---)
      const read = readDocument(raw, at);
      if ("problems" in read) problems.push(...read.problems);
      else {
        const policy = servicePolicySchema.safeParse(read.input);
        const locate = (path: Path) => at(read.sourceOf(path));
        if (policy.success) docs.push({ file, service: read.service, policy: policy.data, fields: read.fields, locate });
        else for (const i of policy.error.issues) problems.push(`${locate(pathOf(i.path))}: ${read.label(pathOf(i.path))}: ${i.message}`);
      }
    }
  }
  if (problems.length > 0) throw new FileError(problems.join("\n"));
  return docs;
}

/** The versions a document names that the service does not have (the console refuses them too). */
export function versionProblems(doc: PolicyDoc, versions: readonly string[]): string[] {
  return policyVersionIssues(doc.policy, versions, doc.service).map((i) => `${doc.locate(i.path)}: policy.${i.path.join(".")}: ${i.message}`);
}

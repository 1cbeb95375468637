/**
 * Declarative policy files for `apply` / `diff`: YAML (several documents per file allowed; a directory means every
 * *.yaml / *.yml / *.json in it, sorted), each document a service's whole traffic policy:
 *
 *   kind: ServicePolicy        # optional
 *   service: payments
 *   policy: { split: [...], timeoutMs: 2000, retries: {...} }
 *
 * Validated with the protocol's own schemas before anything is sent; every problem names file, line and field.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { policyVersionIssues, type ServicePolicy, serviceNameSchema, servicePolicySchema } from "@trellis/protocol";
import { type Document, LineCounter, parseAllDocuments } from "yaml";

export interface PolicyDoc {
  file: string;
  service: string;
  policy: ServicePolicy;
  /** Where a field (path inside the document) is: `file:line:col`. */
  at(path: (string | number)[]): string;
}

/** An invalid file: every problem, one per line; exit code 1 (nothing was sent). */
export class FileError extends Error {
  readonly fileError = true;
}

const DOC_KEYS = new Set(["kind", "service", "policy"]);

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
      const raw = doc.toJS() as Record<string, unknown> | null;
      if (raw === null) continue; // an empty document (a trailing ---)
      if (typeof raw !== "object" || Array.isArray(raw)) {
        problems.push(`${at([])}: expected a mapping with service and policy`);
        continue;
      }
      for (const k of Object.keys(raw)) if (!DOC_KEYS.has(k)) problems.push(`${at([k])}: ${k}: unknown field (expected kind, service, policy)`);
      if (raw.kind !== undefined && raw.kind !== "ServicePolicy") problems.push(`${at(["kind"])}: kind: expected ServicePolicy`);
      const service = serviceNameSchema.safeParse(raw.service);
      if (!service.success) problems.push(`${at(["service"])}: service: ${service.error.issues[0]?.message ?? "invalid"}`);
      const policy = servicePolicySchema.safeParse(raw.policy ?? {});
      if (!policy.success)
        for (const i of policy.error.issues) {
          const path = ["policy", ...i.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
          problems.push(`${at(path)}: ${path.join(".")}: ${i.message}`);
        }
      if (service.success && policy.success) docs.push({ file, service: service.data, policy: policy.data, at });
    }
  }
  if (problems.length > 0) throw new FileError(problems.join("\n"));
  return docs;
}

/** The versions a document names that the service does not have (the console refuses them too). */
export function versionProblems(doc: PolicyDoc, versions: readonly string[]): string[] {
  return policyVersionIssues(doc.policy, versions, doc.service).map((i) => {
    const path = ["policy", ...i.path];
    return `${doc.at(path)}: ${path.join(".")}: ${i.message}`;
  });
}

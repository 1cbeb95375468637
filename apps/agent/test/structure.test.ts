/** The agent's source has no import cycle (type-only imports count: a cycle of types is still one design knot). */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
/** `import … from "./x.ts"`, `import type …`, `export … from`, side-effect `import "./x.ts"`, across lines. */
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^;'"]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8");
    const deps: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) deps.push(resolve(dirname(file), m[1].replace(/\.js$/, ".ts")));
    graph.set(file, deps);
  }
  return graph;
}

/** Every cycle found by a depth-first walk (each reported once, as the path that closes it). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 1 | 2>(); // 1: on the path, 2: finished
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    path.push(n);
    for (const d of graph.get(n) ?? []) {
      if (!graph.has(d)) continue;
      const s = state.get(d);
      if (s === 1) cycles.push([...path.slice(path.indexOf(d)), d]);
      else if (s === undefined) visit(d);
    }
    path.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

test("the import walker sees type-only and multi-line imports and finds a cycle", () => {
  const a = "/s/a.ts";
  const b = "/s/b.ts";
  const text = 'import type {\n  X,\n} from "./b.ts";\nexport { y } from "./c.ts";\nimport "./d.ts";\n';
  const specs = [...text.matchAll(SPECIFIER)].map((m) => m[1]);
  assert.deepEqual(specs, ["./b.ts", "./c.ts", "./d.ts"]);
  assert.deepEqual(
    findCycles(
      new Map([
        [a, [b]],
        [b, [a]],
      ]),
    ),
    [[a, b, a]],
  );
});

test("apps/agent/src has no import cycle", () => {
  const graph = importGraph(SRC);
  assert.ok(graph.size > 30, `walked ${graph.size} files`);
  const cycles = findCycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(" → "));
  assert.deepEqual(cycles, [], `import cycles in apps/agent/src:\n${cycles.join("\n")}`);
});

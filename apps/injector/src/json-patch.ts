/** Building RFC 6902 JSONPatch operations against an object that may lack the parents they need. */

export type PatchOp = { op: "add" | "replace"; path: string; value: unknown } | { op: "remove"; path: string };

/** RFC 6901: `~` and `/` inside a key (annotation keys such as `trellis.io/status`). */
export function pointerKey(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Puts `items` at the front of the array at `path` (creating it when absent), keeping their order. */
export function prepend(ops: PatchOp[], path: string, existing: unknown[] | undefined, items: unknown[]): void {
  if (existing === undefined) {
    ops.push({ op: "add", path, value: items });
    return;
  }
  // Each add at index 0 pushes the previous one down: add in reverse to keep the given order.
  for (const item of [...items].reverse()) ops.push({ op: "add", path: `${path}/0`, value: item });
}

/** Appends `items` to the array at `path` (creating it when absent). */
export function append(ops: PatchOp[], path: string, existing: unknown[] | undefined, items: unknown[]): void {
  if (existing === undefined) ops.push({ op: "add", path, value: items });
  else for (const item of items) ops.push({ op: "add", path: `${path}/-`, value: item });
}

/** Sets `entries` in the string map at `path` (creating the map when absent). */
export function setKeys(ops: PatchOp[], path: string, existing: Record<string, string> | undefined, entries: Record<string, string>): void {
  if (existing === undefined) ops.push({ op: "add", path, value: entries });
  else for (const [key, value] of Object.entries(entries)) ops.push({ op: "add", path: `${path}/${pointerKey(key)}`, value });
}

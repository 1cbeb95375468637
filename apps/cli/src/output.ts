/** `-o table|json|yaml`: tables are left-aligned columns with an upper-case header (as kubectl prints them). */
import { stringify } from "yaml";
import { type Args, flag, UsageError } from "./args.ts";

export type Format = "table" | "json" | "yaml";
export type Column<T> = [header: string, value: (row: T) => string | number | null | undefined];

export function formatOf(args: Args): Format {
  const f = flag(args, "output") ?? "table";
  if (f !== "table" && f !== "json" && f !== "yaml") throw new UsageError(`-o ${f}: use table, json or yaml`);
  return f;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, v]) => String(v(r) ?? "-")))];
  const widths = columns.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  return `${cells.map((c) => c.map((s, i) => (i === c.length - 1 ? s : s.padEnd(widths[i]))).join("   ")).join("\n")}\n`;
}

/** Prints data in the chosen format; `columns` are used for tables. */
export function render<T>(format: Format, data: unknown, rows: readonly T[], columns: readonly Column<T>[]): string {
  if (format === "json") return `${JSON.stringify(data, null, 2)}\n`;
  if (format === "yaml") return stringify(data);
  return table(rows, columns);
}

/** "12s ago", "5m ago", for a last-seen time. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

/** Pure: number fields of policy forms are edited as text; "" means "not set" (the schema's default applies). */

/** "" → undefined; anything else → Number (so "abc" becomes NaN and the schema names the field). */
export function numberOrUnset(text: string): number | undefined {
  const t = text.trim();
  return t === "" ? undefined : Number(t);
}

export function textOf(n: number | undefined | null): string {
  return n === undefined || n === null ? "" : String(n);
}

/** Drops keys whose value is undefined (so "not set" fields take the schema's default). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

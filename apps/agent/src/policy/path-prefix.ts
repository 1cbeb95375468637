/**
 * Path-prefix matching by whole segments, one rule for routes and authorization (as Gateway API's `PathPrefix`):
 * `/api` matches `/api`, `/api/x` and `/api?q`, never `/apix`; a prefix ending in `/` matches whatever starts with it.
 * A plain string prefix would let a rule written for `/api` catch `/apikeys` too.
 */
export function matchesPathPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.charCodeAt(prefix.length - 1) === 47 /* / */) return true;
  const next = path.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

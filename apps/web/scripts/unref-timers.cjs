// Preloaded into the Prisma CLI (NODE_OPTIONS=--require): the JS schema engine leaves 10 s / 60 s timers pending,
// which keeps the CLI alive after it is done. Timers of 10 s or more are unref()'d so they never hold the process.

/** Unrefs `t` when it is a timer of 10 s or more. @param {unknown} ms @param {NodeJS.Timeout} t */
function unrefLong(ms, t) {
  if (typeof ms === "number" && ms >= 10_000 && t && typeof t.unref === "function") t.unref();
  return t;
}

const orig = global.setTimeout;
/** @param {(...args: unknown[]) => void} fn @param {number | undefined} ms @param {unknown[]} rest */
function patchedSetTimeout(fn, ms, ...rest) {
  return unrefLong(ms, orig(fn, ms, ...rest));
}
const origInterval = global.setInterval;
/** @param {(...args: unknown[]) => void} fn @param {number | undefined} ms @param {unknown[]} rest */
function patchedSetInterval(fn, ms, ...rest) {
  return unrefLong(ms, origInterval(fn, ms, ...rest));
}
// Same call signatures as the originals; only their extra properties (setTimeout.__promisify__) are not carried over.
global.setTimeout = /** @type {typeof setTimeout} */ (/** @type {unknown} */ (patchedSetTimeout));
global.setInterval = /** @type {typeof setInterval} */ (/** @type {unknown} */ (patchedSetInterval));

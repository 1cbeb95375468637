// Preloaded into the Prisma CLI (NODE_OPTIONS=--require): the JS schema engine leaves 10 s / 60 s timers pending,
// which keeps the CLI alive after it is done. Timers of 10 s or more are unref()'d so they never hold the process.
const orig = global.setTimeout;
global.setTimeout = function patchedSetTimeout(fn, ms, ...rest) {
  const t = orig(fn, ms, ...rest);
  if (typeof ms === "number" && ms >= 10_000 && t && typeof t.unref === "function") t.unref();
  return t;
};
const origInterval = global.setInterval;
global.setInterval = function patchedSetInterval(fn, ms, ...rest) {
  const t = origInterval(fn, ms, ...rest);
  if (typeof ms === "number" && ms >= 10_000 && t && typeof t.unref === "function") t.unref();
  return t;
};

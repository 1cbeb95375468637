/** One JSON line per event on stdout (what `kubectl logs` and log shippers read). */
export type Log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export const jsonLog: Log = (level, msg, fields = {}) => {
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level, component: "injector", msg, ...fields })}\n`);
};

export const silentLog: Log = () => {};

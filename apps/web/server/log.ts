/** JSON-lines logger (docs/processes.md): `{"t":"<iso>","level":"info","msg":"…",…}` on stdout. Never log a token. */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const threshold = order[(process.env.TRELLIS_LOG_LEVEL as LogLevel) ?? "info"] ?? order.info;

function write(level: LogLevel, msg: string, fields?: LogFields): void {
  if (order[level] < threshold) return;
  const line: LogFields = { t: new Date().toISOString(), level, msg, ...fields };
  for (const [k, v] of Object.entries(line)) if (v instanceof Error) line[k] = { name: v.name, message: v.message };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export function createLogger(base: LogFields = {}): Logger {
  return {
    debug: (msg, f) => write("debug", msg, { ...base, ...f }),
    info: (msg, f) => write("info", msg, { ...base, ...f }),
    warn: (msg, f) => write("warn", msg, { ...base, ...f }),
    error: (msg, f) => write("error", msg, { ...base, ...f }),
    child: (f) => createLogger({ ...base, ...f }),
  };
}

export const log = createLogger();

/**
 * Routes console.* (Next.js prints its own lines) through the JSON logger, so stdout stays JSON lines.
 * ANSI colours are stripped.
 */
export function captureConsole(logger: Logger = log): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC
  const ansi = /\u001b\[[0-9;]*m/g;
  const text = (args: unknown[]) =>
    args
      .map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.name}: ${a.message}` : JSON.stringify(a)))
      .join(" ")
      .replace(ansi, "")
      .trim();
  const emit =
    (level: LogLevel) =>
    (...args: unknown[]) => {
      const t = text(args);
      if (t) logger[level](t, { source: "next" });
    };
  console.log = emit("info");
  console.info = emit("info");
  console.warn = emit("warn");
  console.error = emit("error");
  console.debug = emit("debug");
}

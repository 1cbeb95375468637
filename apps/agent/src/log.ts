/**
 * JSON-lines logger to stdout: `{"t":"<iso>","level":"info","msg":"…",…}`. Never pass a token to it.
 * Nothing on the request hot path logs; per-connection problems go through `RateLimitedLog`.
 */
export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(base: Fields = {}, minLevel: Level = "info", out: (line: string) => void = writeStdout): Logger {
  const min = ORDER[minLevel];
  const emit = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    out(`${JSON.stringify({ t: new Date().toISOString(), level, msg, ...base, ...fields })}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

function writeStdout(line: string): void {
  process.stdout.write(line);
}

/** At most `burst` lines per `periodMs` per key; the count of suppressed lines is reported with the next allowed one. */
export class RateLimitedLog {
  private readonly slots = new Map<string, { windowStart: number; emitted: number; suppressed: number }>();
  constructor(
    private readonly log: Logger,
    private readonly burst = 5,
    private readonly periodMs = 10_000,
  ) {}

  warn(key: string, msg: string, fields?: Fields): void {
    const now = Date.now();
    let slot = this.slots.get(key);
    if (!slot) {
      if (this.slots.size > 256) this.slots.clear();
      slot = { windowStart: now, emitted: 0, suppressed: 0 };
      this.slots.set(key, slot);
    }
    if (now - slot.windowStart >= this.periodMs) {
      slot.windowStart = now;
      slot.emitted = 0;
    }
    if (slot.emitted >= this.burst) {
      slot.suppressed++;
      return;
    }
    slot.emitted++;
    const suppressed = slot.suppressed;
    slot.suppressed = 0;
    this.log.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}

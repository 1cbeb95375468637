/**
 * Which console the control link dials, and when: a small pure state machine over the list of console URLs
 * (`--console a,b`), fed by what happened to the last connection. No I/O, no clock; randomness is injected.
 *
 * - A connection that fails or drops moves to the next URL (round robin), so a dead replica is left at once.
 * - Each dial waits a capped exponential backoff with full jitter, delay ∈ [0, min(cap, base·2^k)), where k counts
 *   whole passes over the list since the last established connection: a replica's agents that all lose it at the
 *   same instant spread over the first `base` ms instead of arriving together (no reconnection storm), and a mesh whose
 *   consoles are all down backs off to the cap instead of spinning.
 * - A connection counts as established once the console sent a valid frame (not merely once the socket opened: a
 *   console that accepts and closes at once must not reset the backoff).
 * The version the agent holds travels in every hello, whichever console it reaches.
 */

export interface FailoverOptions {
  baseMs: number;
  capMs: number;
  /** [0, 1); Math.random by default. */
  random?: () => number;
}

export interface NextDial {
  url: string;
  delayMs: number;
}

export class ConsoleFailover {
  private index = 0;
  /** Connections that failed or dropped since the last established one. */
  private failures = 0;
  /** The console of the last established connection (null: none yet). */
  private lastEstablished: string | null = null;
  /** Established connections on a console other than the one before (for /config and /metrics). */
  failovers = 0;
  private readonly random: () => number;

  constructor(
    readonly urls: readonly string[],
    private readonly opts: FailoverOptions = { baseMs: 250, capMs: 10_000 },
  ) {
    if (urls.length === 0) throw new Error("ConsoleFailover needs at least one console URL");
    this.random = opts.random ?? Math.random;
  }

  /** The console to dial now. */
  get current(): string {
    return this.urls[this.index];
  }

  /** Consecutive failed or dropped connections. */
  get attempts(): number {
    return this.failures;
  }

  /** The connection to `current` failed or dropped: the next console and how long to wait before dialling it. */
  failed(): NextDial {
    const passes = Math.floor(this.failures / this.urls.length);
    const ceiling = Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(passes, 30));
    this.failures++;
    this.index = (this.index + 1) % this.urls.length;
    return { url: this.current, delayMs: Math.floor(this.random() * ceiling) };
  }

  /** `current` answered with a valid frame: the next failure starts from the base delay again. */
  established(): void {
    this.failures = 0;
    if (this.lastEstablished !== null && this.lastEstablished !== this.current) this.failovers++;
    this.lastEstablished = this.current;
  }
}

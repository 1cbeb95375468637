/**
 * Endpoint state that outlives snapshots: one keep-alive undici `Pool` per address, plus the load signals the
 * balancers read (in-flight count, EWMA latency) and the ejection state. A new snapshot re-uses the entries of
 * addresses it still lists and closes the pools of the ones it dropped (gracefully: in-flight calls finish).
 */
import type { Pool } from "undici";
import PoolClass from "undici/lib/dispatcher/pool.js";

export interface PoolOptions {
  /** Idle keep-alive connections are closed after this long (capped by the server's Keep-Alive hint). */
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
}

export const DEFAULT_POOL_OPTIONS: PoolOptions = { keepAliveTimeoutMs: 30_000, connectTimeoutMs: 5_000 };

export function createPool(origin: string, opts: PoolOptions, connections: number | null = null): Pool {
  return new PoolClass(origin, {
    pipelining: 1,
    connections,
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 60_000),
    connectTimeout: opts.connectTimeoutMs,
    connect: { noDelay: true },
  });
}

/** Ejection after a connect failure: 1 s, doubling per consecutive failure, capped at 10 s. */
const EJECT_BASE_MS = 1_000;
const EJECT_MAX_MS = 10_000;
/** EWMA smoothing for the latency signal and its starting value for an endpoint not yet measured. */
const EWMA_ALPHA = 0.3;
const EWMA_INITIAL_MS = 1;

export class EndpointState {
  inflight = 0;
  ewmaMs = EWMA_INITIAL_MS;
  ejectedUntil = 0;
  consecutiveFailures = 0;
  // Outlier detection (upstream/outlier.ts): consecutive failures of answered calls and the ejection multiplier.
  consecutive5xx = 0;
  consecutiveGateway = 0;
  /** How many times ejected "recently" (decays by one per outlier interval spent back in service). */
  ejections = 0;
  /** Total outlier ejections (for logs / tests). */
  ejectedTotal = 0;
  /** Per-endpoint connection cap of the pool (circuit breaker maxConnections); null = unlimited. */
  connections: number | null = null;
  readonly origin: string;

  constructor(
    readonly address: string,
    public pool: Pool,
  ) {
    this.origin = "http://" + address;
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** P2C cost: in-flight load weighted by recent latency (lower is better). */
  cost(): number {
    return (this.inflight + 1) * this.ewmaMs;
  }

  succeeded(latencyMs: number): void {
    this.ewmaMs += EWMA_ALPHA * (latencyMs - this.ewmaMs);
    this.consecutiveFailures = 0;
  }

  /** Connection refused / could not connect: skip this endpoint for a while. */
  eject(now: number): void {
    this.consecutiveFailures++;
    const ms = Math.min(EJECT_MAX_MS, EJECT_BASE_MS * 2 ** Math.min(this.consecutiveFailures - 1, 10));
    this.ejectedUntil = now + ms;
  }
}

export class EndpointRegistry {
  private readonly byAddress = new Map<string, EndpointState>();

  constructor(private readonly poolOptions: PoolOptions = DEFAULT_POOL_OPTIONS) {}

  /**
   * The state for an address, creating its pool on first use. `connections` caps the pool (circuit breaker
   * maxConnections); when it changes the pool is replaced and the old one closes after its in-flight calls.
   */
  acquire(address: string, connections: number | null = null): EndpointState {
    let ep = this.byAddress.get(address);
    if (ep === undefined) {
      ep = new EndpointState(address, createPool("http://" + address, this.poolOptions, connections));
      ep.connections = connections;
      this.byAddress.set(address, ep);
    } else if (ep.connections !== connections) {
      const old = ep.pool;
      ep.pool = createPool("http://" + address, this.poolOptions, connections);
      ep.connections = connections;
      old.close().catch(() => {});
    }
    return ep;
  }

  /** Closes the pools of addresses not in `keep` (after their in-flight requests finish). */
  retain(keep: Set<string>): string[] {
    const closed: string[] = [];
    for (const [address, ep] of this.byAddress) {
      if (keep.has(address)) continue;
      this.byAddress.delete(address);
      closed.push(address);
      ep.pool.close().catch(() => {});
    }
    return closed;
  }

  size(): number {
    return this.byAddress.size;
  }

  has(address: string): boolean {
    return this.byAddress.has(address);
  }

  get(address: string): EndpointState | undefined {
    return this.byAddress.get(address);
  }

  async closeAll(): Promise<void> {
    const all = [...this.byAddress.values()];
    this.byAddress.clear();
    await Promise.allSettled(all.map((ep) => ep.pool.destroy()));
  }
}

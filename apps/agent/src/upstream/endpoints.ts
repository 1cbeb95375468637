/**
 * Endpoint state that outlives snapshots: one keep-alive undici `Pool` per address, plus the load signals the
 * balancers read (in-flight count, EWMA latency) and the ejection state. A new snapshot re-uses the entries of
 * addresses it still lists and closes the pools of the ones it dropped (gracefully: in-flight calls finish).
 */
import net from "node:net";
import tls from "node:tls";
import type { Pool } from "undici";
import PoolClass from "undici/lib/dispatcher/pool.js";
import { spiffeIdOfSan } from "../security/spiffe.ts";
import { DEFAULT_H2_OPTIONS, H2Client, type H2Connect } from "./h2-client.ts";

export interface PoolOptions {
  /** Idle keep-alive connections are closed after this long (capped by the server's Keep-Alive hint). */
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
}

export const DEFAULT_POOL_OPTIONS: PoolOptions = { keepAliveTimeoutMs: 30_000, connectTimeoutMs: 5_000 };

/** Where outbound mTLS connections get the agent's current client context (it changes at each renewal). */
export interface TlsSource {
  readonly clientContext: tls.SecureContext | null;
}

/** Marks a failure to establish mTLS (no certificate yet, handshake refused, wrong peer identity). */
export class TlsConnectError extends Error {
  readonly code = "TRELLIS_TLS_FAILED";
}

type ConnectCallback = (err: Error | null, socket: tls.TLSSocket | null) => void;

/**
 * An undici `connect` function for mTLS: each new connection uses the identity's *current* secure context (so a
 * renewed certificate is used from the next connection on, while open ones carry on), trusts only the mesh CA, and
 * checks that the peer's certificate carries the destination service's SPIFFE id.
 */
export function mtlsConnector(source: TlsSource, expectedPeer: string, timeoutMs: number, alpn: "h2" | null = null) {
  return (opts: { hostname: string; port: string }, cb: ConnectCallback): void => {
    const ctx = source.clientContext;
    if (ctx === null) {
      cb(new TlsConnectError("this agent has no certificate yet"), null);
      return;
    }
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        sock.destroy();
        cb(err, null);
      } else cb(null, sock);
    };
    const sock = tls.connect({
      host: opts.hostname,
      port: Number(opts.port),
      secureContext: ctx,
      ...(alpn !== null ? { ALPNProtocols: [alpn] } : {}),
      checkServerIdentity: (_host, cert) => {
        const id = spiffeIdOfSan(cert.subjectaltname);
        return id === expectedPeer ? undefined : new TlsConnectError(`peer is ${id ?? "unknown"}, expected ${expectedPeer}`);
      },
    });
    const timer = setTimeout(() => {
      const e = new Error("connect timeout") as NodeJS.ErrnoException;
      e.code = "UND_ERR_CONNECT_TIMEOUT";
      finish(e);
    }, timeoutMs);
    sock.setNoDelay(true);
    sock.once("secureConnect", () =>
      finish(
        alpn !== null && sock.alpnProtocol !== alpn
          ? new TlsConnectError(`peer did not accept ALPN ${alpn} (got ${sock.alpnProtocol || "none"})`)
          : null,
      ),
    );
    sock.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED" || err.code === "EHOSTUNREACH" || err.code === "ENETUNREACH") finish(err);
      else finish(err instanceof TlsConnectError ? err : Object.assign(new TlsConnectError(`mTLS handshake failed: ${err.message}`), { cause: err }));
    });
  };
}

export function createPool(
  origin: string,
  opts: PoolOptions,
  connections: number | null = null,
  tlsConnect?: ReturnType<typeof mtlsConnector>,
): Pool {
  return new PoolClass(origin, {
    pipelining: 1,
    connections,
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 60_000),
    connectTimeout: opts.connectTimeoutMs,
    connect: tlsConnect ?? { noDelay: true },
  } as ConstructorParameters<typeof PoolClass>[1]);
}

/** A plaintext TCP connection for h2c (prior knowledge), with the pools' connect timeout and error codes. */
export function plainConnector(host: string, port: number, timeoutMs: number): H2Connect {
  return (cb) => {
    const sock = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      const e = new Error("connect timeout") as NodeJS.ErrnoException;
      e.code = "UND_ERR_CONNECT_TIMEOUT";
      sock.destroy();
      cb(e, null);
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      cb(null, sock);
    });
    sock.once("error", (err) => {
      clearTimeout(timer);
      cb(err, null);
    });
  };
}

/** An HTTP/2 client to `address` (host:port): mTLS with ALPN h2 when a peer id (and a TLS source) is given, else h2c. */
export function createH2Client(address: string, opts: PoolOptions, tlsSource: TlsSource | null, peerId: string | null): H2Client {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  let connect: H2Connect;
  if (peerId !== null && tlsSource !== null) {
    const tlsConnect = mtlsConnector(tlsSource, peerId, opts.connectTimeoutMs, "h2");
    connect = (cb) => tlsConnect({ hostname: host, port }, cb);
  } else connect = plainConnector(host, Number(port), opts.connectTimeoutMs);
  return new H2Client(`${peerId !== null ? "https" : "http"}://${address}`, connect, {
    ...DEFAULT_H2_OPTIONS,
    idleTimeoutMs: opts.keepAliveTimeoutMs,
    scheme: peerId !== null ? "https" : "http",
  });
}

/** Ejection after a connect failure: 1 s, doubling per consecutive failure, capped at 10 s. */
const EJECT_BASE_MS = 1_000;
const EJECT_MAX_MS = 10_000;
/** EWMA smoothing for the latency signal and its starting value for an endpoint not yet measured. */
const EWMA_ALPHA = 0.3;
const EWMA_INITIAL_MS = 1;
/**
 * A failed attempt (5xx, reset, timeout) counts as a sample at least this slow (as Finagle's and linkerd's failure
 * penalty): an endpoint that fails fast must not look fast.
 */
export const FAILURE_PENALTY_MS = 1_000;
/**
 * Between samples the estimate decays toward zero with this time constant (as linkerd's peak-EWMA), so an endpoint
 * left alone after failures is tried again in time and can show it recovered.
 */
const EWMA_DECAY_MS = 10_000;

export class EndpointState {
  inflight = 0;
  ewmaMs = EWMA_INITIAL_MS;
  /** When ewmaMs was last updated (the balancer's clock). */
  sampledAt = 0;
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

  /** The endpoint's one multiplexed HTTP/2 connection, opened on first use (`h2()`). */
  private h2Client: H2Client | null = null;

  constructor(
    readonly address: string,
    public pool: Pool,
    /** Whether calls to this endpoint run over mTLS (its service's mode is STRICT or PERMISSIVE). */
    readonly tls: boolean = false,
    private readonly makeH2: (() => H2Client) | null = null,
  ) {}

  /** The HTTP/2 client to this endpoint (same mTLS decision as the pool). */
  h2(): H2Client {
    if (this.h2Client === null) {
      if (this.makeH2 === null) throw new Error(`no HTTP/2 client for ${this.address}`);
      this.h2Client = this.makeH2();
    }
    return this.h2Client;
  }

  /** Closes both clients after their calls in flight. */
  close(): Promise<unknown> {
    return Promise.allSettled([this.pool.close(), this.h2Client?.close()]);
  }

  destroy(): Promise<unknown> {
    return Promise.allSettled([this.pool.destroy(), this.h2Client?.destroy()]);
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** The latency estimate at `now`: decayed since the last sample. */
  latencyAt(now: number): number {
    const idle = now - this.sampledAt;
    return idle <= 0 ? this.ewmaMs : this.ewmaMs * Math.exp(-idle / EWMA_DECAY_MS);
  }

  /** P2C cost: in-flight load weighted by recent latency (lower is better). */
  cost(now: number): number {
    return (this.inflight + 1) * this.latencyAt(now);
  }

  private sample(latencyMs: number, now: number): void {
    const est = this.latencyAt(now);
    this.ewmaMs = est + EWMA_ALPHA * (latencyMs - est);
    this.sampledAt = now;
  }

  succeeded(latencyMs: number, now: number): void {
    this.sample(latencyMs, now);
    this.consecutiveFailures = 0;
  }

  /** An answered failure (5xx) or a broken attempt: a penalty sample, so failing fast does not attract traffic. */
  failed(latencyMs: number, now: number): void {
    this.sample(Math.max(latencyMs, FAILURE_PENALTY_MS), now);
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

  constructor(
    private readonly poolOptions: PoolOptions = DEFAULT_POOL_OPTIONS,
    private readonly tlsSource: TlsSource | null = null,
  ) {}

  /** Registry key: a plaintext and an mTLS pool to the same address are separate (a mode change swaps them). */
  static key(address: string, peerId: string | null): string {
    return peerId === null ? address : `${address} ${peerId}`;
  }

  /**
   * The state for an address, creating its pool on first use. `peerId` (the destination's SPIFFE id) asks for an
   * mTLS pool that verifies the peer is that service. `connections` caps the pool (circuit breaker maxConnections);
   * when it changes the pool is replaced and the old one closes after its in-flight calls.
   */
  acquire(address: string, peerId: string | null = null, connections: number | null = null): EndpointState {
    const key = EndpointRegistry.key(address, peerId);
    let ep = this.byAddress.get(key);
    if (ep === undefined) {
      ep = new EndpointState(address, this.poolFor(address, peerId, connections), peerId !== null, () =>
        createH2Client(address, this.poolOptions, this.tlsSource, peerId),
      );
      ep.connections = connections;
      this.byAddress.set(key, ep);
    } else if (ep.connections !== connections) {
      const old = ep.pool;
      ep.pool = this.poolFor(address, peerId, connections);
      ep.connections = connections;
      old.close().catch(() => {});
    }
    return ep;
  }

  private poolFor(address: string, peerId: string | null, connections: number | null): Pool {
    const connect = peerId !== null && this.tlsSource !== null ? mtlsConnector(this.tlsSource, peerId, this.poolOptions.connectTimeoutMs) : undefined;
    return createPool(`http://${address}`, this.poolOptions, connections, connect);
  }

  /** Closes the pools whose keys are not in `keep` (after their in-flight requests finish). */
  retain(keep: Set<string>): string[] {
    const closed: string[] = [];
    for (const [address, ep] of this.byAddress) {
      if (keep.has(address)) continue;
      this.byAddress.delete(address);
      closed.push(address);
      ep.close().catch(() => {});
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
    await Promise.allSettled(all.map((ep) => ep.destroy()));
  }
}

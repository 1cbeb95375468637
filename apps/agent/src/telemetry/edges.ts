/**
 * Per-edge accounting. An `EdgeGroup` is one (source, sourceVersion, destination, destinationVersion); routes resolve
 * their groups when a snapshot is compiled, so recording a request is a few increments on an object the exchange
 * already holds — no key building, no map lookup (except the per-status-code counter for /metrics).
 *
 * Two views are kept: the telemetry window (per status class, reset every interval, sent to the console) and the
 * cumulative counters since start (per status code, for Prometheus).
 */
import { compactHistogram, type EdgeStats, emptyHistogram, type Histogram, observe, type StatusClass, UNKNOWN_VERSION } from "@trellis/protocol";

const CLASSES: readonly StatusClass[] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

function classIndex(status: number): number {
  if (status >= 500) return 4;
  if (status >= 400) return 3;
  if (status >= 300) return 2;
  if (status >= 200) return 1;
  return 0;
}

class WindowCell {
  requests = 0;
  errors = 0;
  bytesIn = 0;
  bytesOut = 0;
  mtls = 0;
  latency: Histogram = emptyHistogram();
  /** Tunnels (upgrades) opened in the window, closed in it, and the closed ones' total duration. */
  connectionsOpened = 0;
  connectionsClosed = 0;
  connectionMs = 0;
  /** gRPC calls by status code, created on the first one. */
  grpc: Record<string, number> | null = null;
}

export class EdgeGroup {
  /** Window cells per status class, created on first use, dropped at each drain. */
  private window: (WindowCell | null)[] = [null, null, null, null, null];
  /** Cumulative requests per status code. */
  readonly codes = new Map<number, number>();
  /** Cumulative gRPC calls per gRPC status code. */
  readonly grpcCodes = new Map<number, number>();
  /** Cumulative latency histogram (all codes). */
  readonly latency: Histogram = emptyHistogram();
  count = 0;
  /** Tunnels open now (a gauge, reported with the 1xx window). */
  connectionsOpen = 0;
  /** Mirror groups: copies not sent because too many were in flight (cumulative). */
  mirrorsDropped = 0;

  constructor(
    readonly source: string,
    readonly sourceVersion: string,
    readonly destination: string,
    readonly destinationVersion: string,
    /** Mirrored copies (outbound/mirror.ts), kept apart from the calls this agent answered. */
    readonly mirrored = false,
  ) {}

  /** One finished call. `error` marks proxy-made failures and broken streams on top of 5xx. */
  record(status: number, error: boolean, latencyMs: number, bytesIn: number, bytesOut: number, mtls: boolean, grpcStatus = -1): void {
    const cell = this.cell(classIndex(status));
    cell.requests++;
    if (grpcStatus >= 0) {
      if (cell.grpc === null) cell.grpc = {};
      cell.grpc[grpcStatus] = (cell.grpc[grpcStatus] ?? 0) + 1;
      this.grpcCodes.set(grpcStatus, (this.grpcCodes.get(grpcStatus) ?? 0) + 1);
    }
    if (error || status >= 500) cell.errors++;
    cell.bytesIn += bytesIn;
    cell.bytesOut += bytesOut;
    if (mtls) cell.mtls++;
    observe(cell.latency, latencyMs);
    this.codes.set(status, (this.codes.get(status) ?? 0) + 1);
    observe(this.latency, latencyMs);
    this.count++;
  }

  /** A tunnel opened: its 101 counts as a call now (latency = the handshake), its bytes when it closes. */
  connectionOpened(handshakeMs: number, mtls: boolean): void {
    this.record(101, false, handshakeMs, 0, 0, mtls);
    this.cell(0).connectionsOpened++;
    this.connectionsOpen++;
  }

  /** A tunnel closed after `durationMs`, having moved these bytes. */
  connectionClosed(durationMs: number, bytesIn: number, bytesOut: number): void {
    const cell = this.cell(0);
    cell.connectionsClosed++;
    cell.connectionMs += durationMs;
    cell.bytesIn += bytesIn;
    cell.bytesOut += bytesOut;
    this.connectionsOpen--;
  }

  private cell(ci: number): WindowCell {
    let cell = this.window[ci];
    if (cell === null) cell = this.window[ci] = new WindowCell();
    return cell;
  }

  /** Appends this group's window to `out` and starts a new window. */
  drainInto(out: EdgeStats[]): void {
    // Open tunnels are reported every window, with or without new calls.
    if (this.connectionsOpen > 0) this.cell(0);
    for (let i = 0; i < 5; i++) {
      const cell = this.window[i];
      if (cell === null) continue;
      this.window[i] = null;
      const tunnels = i === 0 && (this.connectionsOpen > 0 || cell.connectionsOpened > 0 || cell.connectionsClosed > 0);
      if (cell.requests === 0 && !tunnels) continue;
      out.push({
        source: this.source,
        sourceVersion: this.sourceVersion,
        destination: this.destination,
        destinationVersion: this.destinationVersion,
        statusClass: CLASSES[i],
        requests: cell.requests,
        errors: cell.errors,
        bytesIn: cell.bytesIn,
        bytesOut: cell.bytesOut,
        mtls: cell.mtls,
        ...(this.mirrored ? { mirrored: cell.requests } : {}),
        latency: compactHistogram(cell.latency),
        ...(cell.grpc !== null ? { grpcStatus: cell.grpc } : {}),
        ...(tunnels
          ? {
              connectionsOpened: cell.connectionsOpened,
              connectionsOpen: this.connectionsOpen,
              connectionsClosed: cell.connectionsClosed,
              connectionMs: Math.round(cell.connectionMs),
            }
          : {}),
      });
    }
  }
}

/**
 * All edge groups of this agent, keyed by the four names. Lookups happen when routes are compiled, and per request
 * only for names the snapshot does not know (unknown services), which are capped so an app cannot grow memory.
 */
export class EdgeRegistry {
  private readonly groups = new Map<string, EdgeGroup>();
  private unknownCount = 0;

  constructor(private readonly maxUnknown = 64) {}

  get(source: string, sourceVersion: string, destination: string, destinationVersion: string, mirrored = false): EdgeGroup {
    const key = `${source}\u0000${sourceVersion}\u0000${destination}\u0000${destinationVersion}${mirrored ? "\u0000m" : ""}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = new EdgeGroup(source, sourceVersion, destination, destinationVersion, mirrored);
      this.groups.set(key, g);
    }
    return g;
  }

  /** A group for a destination name that is not (or not yet) in the snapshot. Past the cap, all share "unknown". */
  getUnknown(source: string, sourceVersion: string, destination: string): EdgeGroup {
    const key = `${source}\u0000${sourceVersion}\u0000${destination}\u0000${UNKNOWN_VERSION}`;
    const g = this.groups.get(key);
    if (g !== undefined) return g;
    if (this.unknownCount >= this.maxUnknown || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(destination))
      return this.get(source, sourceVersion, "unknown", UNKNOWN_VERSION);
    this.unknownCount++;
    return this.get(source, sourceVersion, destination, UNKNOWN_VERSION);
  }

  /** The window since the previous drain, as protocol EdgeStats (at most `max` entries), then resets it. */
  drain(max = 10_000): EdgeStats[] {
    const out: EdgeStats[] = [];
    for (const g of this.groups.values()) {
      g.drainInto(out);
    }
    return out.length > max ? out.slice(0, max) : out;
  }

  all(): IterableIterator<EdgeGroup> {
    return this.groups.values();
  }
}

/**
 * The replicas' bus on PostgreSQL: one dedicated connection (not from Prisma's pool: LISTEN holds its session) that
 * LISTENs on the channels and sends with pg_notify. NOTIFY reaches every listening session, this one's too: those are
 * recognised by the sender's backend pid and skipped. When the connection drops it reconnects with capped, jittered
 * backoff, LISTENs again and asks for a resync (notifications sent meanwhile are lost).
 */
import pg from "pg";
import type { Logger } from "../log.ts";
import { type BusStats, CHANNELS, type Channel, emptyBusStats, type ReplicaBus } from "./bus.ts";

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;

export class PgBus implements ReplicaBus {
  readonly shared = true;
  readonly stats: BusStats = emptyBusStats();
  private client: pg.Client | null = null;
  private ready = false;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly handlers = new Map<string, ((payload: string) => void)[]>();
  private readonly resync: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  /** Resolves once listening; a first connection that fails is retried in the background (the console still starts). */
  async start(): Promise<void> {
    await this.connect(false);
  }

  on(channel: Channel, handler: (payload: string) => void): void {
    const name = CHANNELS[channel];
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), handler]);
  }

  onResync(handler: () => void): void {
    this.resync.push(handler);
  }

  send(channel: Channel, payload: string): void {
    const client = this.client;
    if (!client || !this.ready) {
      this.stats.dropped++;
      return;
    }
    this.stats.sent++;
    this.stats.bytesSent += Buffer.byteLength(payload);
    client.query("SELECT pg_notify($1, $2)", [CHANNELS[channel], payload]).catch((err: Error) => {
      this.stats.dropped++;
      this.log.warn("replica notify failed", { channel, error: err.message });
    });
  }

  private async connect(isRetry: boolean): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, application_name: "trellis-console-bus" });
    this.client = client;
    // pg sets processID (the backend pid) at connect; its typings leave it out.
    const ownPid = () => (client as unknown as { processID: number | null }).processID;
    client.on("notification", (msg) => {
      if (msg.processId === ownPid() || msg.payload === undefined) return;
      this.stats.received++;
      this.stats.bytesReceived += Buffer.byteLength(msg.payload);
      for (const h of this.handlers.get(msg.channel) ?? []) {
        try {
          h(msg.payload);
        } catch (err) {
          this.log.error("replica message handler failed", { channel: msg.channel, error: err as Error });
        }
      }
    });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    try {
      await client.connect();
      for (const name of Object.values(CHANNELS)) await client.query(`LISTEN ${name}`);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.client !== client) return;
    this.ready = true;
    this.failures = 0;
    this.log.info(isRetry ? "replica bus reconnected" : "replica bus listening", { channels: Object.values(CHANNELS) });
    if (isRetry) {
      this.stats.reconnects++;
      for (const h of this.resync) h();
    }
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.ready = false;
    client.removeAllListeners("end");
    client.on("error", () => undefined);
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.failures++;
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    this.log.warn("replica bus connection lost; reconnecting", { error: err.message, inMs: delay });
    this.retryTimer = setTimeout(() => void this.connect(true), delay);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    this.ready = false;
    if (client) await client.end().catch(() => undefined);
  }
}

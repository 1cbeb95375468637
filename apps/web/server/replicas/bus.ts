/**
 * How console replicas tell each other things: config changes ("config changed: services, version") and shared
 * telemetry chunks. On PostgreSQL it is LISTEN/NOTIFY (pg-bus.ts); on SQLite the console is alone and the bus is a
 * no-op in the process. Messages are fire-and-forget: a replica that missed some (its listening connection dropped)
 * is told to resync (`onResync`), and re-reads the database in a push round.
 */

export const CHANNELS = { config: "trellis_config", telemetry: "trellis_telemetry" } as const;
export type Channel = keyof typeof CHANNELS;

/** The payload on the config channel. */
export interface ConfigChanged {
  replica: string;
  services: string[];
  version: number;
}

export interface BusStats {
  sent: number;
  bytesSent: number;
  received: number;
  bytesReceived: number;
  /** Sends while disconnected or that failed. */
  dropped: number;
  reconnects: number;
}

export interface ReplicaBus {
  /** False when no other replica can be listening (SQLite). */
  readonly shared: boolean;
  readonly stats: BusStats;
  /** To every other replica (not back to this one). */
  send(channel: Channel, payload: string): void;
  on(channel: Channel, handler: (payload: string) => void): void;
  /** The listening connection came back: messages may have been missed. */
  onResync(handler: () => void): void;
  close(): Promise<void>;
}

export function emptyBusStats(): BusStats {
  return { sent: 0, bytesSent: 0, received: 0, bytesReceived: 0, dropped: 0, reconnects: 0 };
}

/** One console on SQLite: nobody else to tell. */
export class LocalBus implements ReplicaBus {
  readonly shared = false;
  readonly stats = emptyBusStats();
  send(): void {}
  on(): void {}
  onResync(): void {}
  async close(): Promise<void> {}
}

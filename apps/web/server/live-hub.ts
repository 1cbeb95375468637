/**
 * `/ws/live`: pushes the live graph to browsers once a second (a quarter second after each second boundary, so the
 * agents' telemetry for the second that just ended is in). One JSON string per tick is shared by every client; a
 * client that cannot keep up (large send buffer) skips frames instead of growing memory. Browser messages are ignored.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { LiveGraph } from "../shared/live-types.ts";
import type { Logger } from "./log.ts";

export interface LiveHubOptions {
  tickOffsetMs: number;
  maxBufferedBytes: number;
  heartbeatMs: number;
}

export class LiveHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private tickTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly options: LiveHubOptions;
  frames = 0;

  constructor(
    private readonly graph: () => LiveGraph,
    private readonly log: Logger,
    options: Partial<LiveHubOptions> = {},
  ) {
    this.options = { tickOffsetMs: 250, maxBufferedBytes: 1024 * 1024, heartbeatMs: 15_000, ...options };
    this.wss.on("connection", (ws: WebSocket) => {
      this.alive.set(ws, true);
      ws.on("pong", () => this.alive.set(ws, true));
      ws.on("error", () => undefined);
      ws.on("message", () => undefined);
      ws.send(JSON.stringify(this.graph()));
    });
  }

  start(): void {
    this.scheduleTick();
    this.heartbeatTimer = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!this.alive.get(ws)) {
          ws.terminate();
          continue;
        }
        this.alive.set(ws, false);
        ws.ping();
      }
    }, this.options.heartbeatMs);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit("connection", ws, req));
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  private scheduleTick(): void {
    if (this.closed) return;
    const now = Date.now();
    const next = (Math.floor(now / 1000) + 1) * 1000 + this.options.tickOffsetMs;
    this.tickTimer = setTimeout(() => {
      this.tick();
      this.scheduleTick();
    }, next - now);
  }

  private tick(): void {
    if (this.wss.clients.size === 0) return;
    let payload: string;
    try {
      payload = JSON.stringify(this.graph());
    } catch (err) {
      this.log.error("live graph failed", { error: err as Error });
      return;
    }
    this.frames++;
    for (const ws of this.wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > this.options.maxBufferedBytes) continue;
      ws.send(payload);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const ws of this.wss.clients) ws.close(1001, "console shutting down");
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
        resolve();
      }, 300);
      this.wss.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

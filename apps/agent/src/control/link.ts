/**
 * The control link: one websocket to a console (`/ws/agents`). Sends `hello` on open, answers `snapshot` frames
 * with ack/nack (in order), logs `error` frames, fails over to the next console URL and reconnects with capped
 * exponential backoff + full jitter (failover.ts), and detects a dead console by heartbeat (ping every interval; no
 * pong or frame for two intervals → terminate). Over wss:// the console's certificate is verified (against `ca` when
 * given) before anything is sent: the hello, with the join token, goes out only on a verified connection; an untrusted
 * console is refused with a clear error (and retried with the backoff, in case the operator fixes it).
 * Nothing here is on the data path: the console being down never stops traffic.
 */
import { type AgentFrame, type CertificateFrame, type HelloFrame, parseConsoleFrame, type SnapshotFrame, type TrustFrame } from "@trellis/protocol";
import WebSocket from "ws";
import type { Logger } from "../log.ts";
import { CONTROL_CONSOLE_UNTRUSTED, discoverPinnedCa, isUntrustedCertificate } from "./console-trust.ts";
import { ConsoleFailover } from "./failover.ts";
import { nack, type SnapshotReply } from "./snapshots.ts";

export interface ControlLinkOptions {
  /** Console URLs (replicas), dialled in turn: the link moves to the next when a connection fails or drops. */
  urls: readonly string[];
  /** PEM CA bundle the console's certificate must chain to (wss://); null/absent = the system's CAs. */
  ca?: string | null;
  /** `sha256:<hex>` of the console CA's public key: the CA is fetched by a bare TLS handshake, then trusted as `ca`. */
  caPin?: string | null;
  /** The name the console's certificate is verified for (and sent as SNI) instead of the URL's host: a relay, an IP. */
  serverName?: string | null;
  hello: () => HelloFrame;
  onSnapshot: (frame: SnapshotFrame) => Promise<SnapshotReply>;
  log: Logger;
  heartbeatMs: number;
  /** Dial order and backoff (default: `urls`, 250 ms doubling per pass over them, 10 s cap, full jitter). */
  failover?: ConsoleFailover;
  /** After hello went out on a new connection (the identity asks for a certificate here). */
  onUp?: () => void;
  onCertificate?: (frame: CertificateFrame) => void;
  /** The mesh trust bundle (CA rotation). */
  onTrust?: (frame: TrustFrame) => void;
}

export class ControlLink {
  private ws: WebSocket | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private missed = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly failover: ConsoleFailover;
  /** The console answered on this connection (the backoff was reset). */
  private established = false;
  connected = false;
  /** Connections opened so far (for logs and tests). */
  sessions = 0;
  /** When the current connection opened (ms since the epoch), null while down. */
  connectedSince: number | null = null;

  /** The CA the console's certificate must chain to (given, or found by its pin). */
  private ca: string | null;

  constructor(private readonly opts: ControlLinkOptions) {
    this.failover = opts.failover ?? new ConsoleFailover(opts.urls);
    this.ca = opts.ca ?? null;
  }

  start(): void {
    this.connect();
  }

  /** The console dialled now (the one connected to while `connected`). */
  get console(): string {
    return this.failover.current;
  }

  /** Connections established on another console than the one before. */
  get failovers(): number {
    return this.failover.failovers;
  }

  /** The connection failed or dropped: move to the next console, dial it after the jittered backoff. */
  private redial(): { url: string; delayMs: number } {
    const next = this.failover.failed();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, next.delayMs);
    return next;
  }

  send(frame: AgentFrame): boolean {
    const ws = this.ws;
    if (ws === null || !this.connected || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const ws = this.ws;
    if (ws === null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 300);
      ws.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      try {
        ws.close(1001, "agent shutting down");
      } catch {
        ws.terminate();
      }
    });
  }

  /** The pinned CA is not known yet: fetch the console's chain (TLS only, nothing sent) and pick it by its hash. */
  private discover(pin: string): void {
    const { log } = this.opts;
    const url = this.failover.current;
    discoverPinnedCa(url, pin).then(
      (pem) => {
        if (this.stopped) return;
        // Replicas share the mesh CA: the one found on any of them verifies them all.
        this.ca = pem;
        log.info("console CA found by its pinned hash", { console: url, pin });
        this.connect();
      },
      (err: Error) => {
        if (this.stopped) return;
        const next = this.redial();
        if (isUntrustedCertificate(err))
          log.error("console refused: its certificate is not signed by the CA we trust; join token not sent", {
            code: CONTROL_CONSOLE_UNTRUSTED,
            console: url,
            error: err.message,
            next: next.url,
            retryInMs: next.delayMs,
          });
        else
          log.warn("console unreachable", {
            console: url,
            attempts: this.failover.attempts,
            error: err.message,
            next: next.url,
            retryInMs: next.delayMs,
          });
      },
    );
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.opts.caPin && this.ca === null) {
      this.discover(this.opts.caPin);
      return;
    }
    const { log } = this.opts;
    const url = this.failover.current;
    this.established = false;
    const ws = new WebSocket(url, {
      handshakeTimeout: 5_000,
      perMessageDeflate: false,
      maxPayload: 32 * 1024 * 1024,
      ...(this.ca ? { ca: this.ca } : {}),
      ...(this.opts.serverName ? { servername: this.opts.serverName } : {}),
    });
    this.ws = ws;
    ws.on("open", () => {
      this.connected = true;
      this.connectedSince = Date.now();
      this.sessions++;
      this.missed = 0;
      log.info("control link up", { console: url, session: this.sessions });
      ws.send(JSON.stringify(this.opts.hello()));
      this.startHeartbeat(ws);
      this.opts.onUp?.();
    });
    ws.on("message", (data, isBinary) => {
      this.missed = 0;
      this.onMessage(isBinary ? (data as Buffer) : data.toString());
    });
    ws.on("pong", () => {
      this.missed = 0;
    });
    ws.on("ping", () => {
      this.missed = 0;
    });
    ws.on("error", (err) => {
      if (isUntrustedCertificate(err))
        log.error("console refused: its certificate is not signed by the CA we trust; join token not sent", {
          code: CONTROL_CONSOLE_UNTRUSTED,
          console: url,
          reason: (err as NodeJS.ErrnoException).code,
          error: err.message,
        });
      else log.debug("control link error", { error: err.message });
    });
    ws.on("close", (code, reason) => {
      const wasConnected = this.connected;
      this.connected = false;
      this.connectedSince = null;
      this.stopHeartbeat();
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      const next = this.redial();
      if (wasConnected) log.warn("control link down", { console: url, code, reason: reason.toString(), next: next.url, retryInMs: next.delayMs });
      else if (this.failover.attempts <= this.failover.urls.length || this.failover.attempts % 10 === 0)
        log.warn("console unreachable", { console: url, attempts: this.failover.attempts, next: next.url, retryInMs: next.delayMs });
    });
  }

  private onMessage(raw: string | Buffer): void {
    const { log } = this.opts;
    const parsed = parseConsoleFrame(raw);
    if (!parsed.ok) {
      // A snapshot frame that fails the frame schema still deserves a nack if it names its version and nonce.
      const guess = tryJson(raw) as { type?: unknown; version?: unknown; nonce?: unknown } | null;
      if (guess?.type === "snapshot" && Number.isInteger(guess.version) && typeof guess.nonce === "string" && guess.nonce.length > 0) {
        this.send(nack(Math.max(0, guess.version as number), guess.nonce.slice(0, 64), `invalid snapshot frame: ${parsed.error}`));
      }
      log.warn("invalid frame from console", { error: parsed.error });
      return;
    }
    const frame = parsed.frame;
    if (frame.type === "error") {
      (frame.fatal ? log.error : log.warn)("console error", { code: frame.code, message: frame.message, fatal: frame.fatal });
      return;
    }
    // The console answered: the next drop starts from the base delay. Not on error frames: a console that refuses this
    // agent (bad token, scope) closes next, and the retries must keep backing off.
    if (!this.established) {
      this.established = true;
      this.failover.established();
    }
    if (frame.type === "certificate") {
      this.opts.onCertificate?.(frame);
      return;
    }
    if (frame.type === "trust") {
      this.opts.onTrust?.(frame);
      return;
    }
    // snapshot: handled strictly in arrival order; replies go out on whatever socket is up then.
    this.queue = this.queue
      .then(() => this.opts.onSnapshot(frame))
      .then(
        (reply) => {
          this.send(reply);
        },
        (err) => {
          log.error("snapshot handling failed", { error: (err as Error).message });
        },
      );
  }

  private startHeartbeat(ws: WebSocket): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (this.missed >= 2) {
        this.opts.log.warn("console not answering heartbeats, reconnecting", { missed: this.missed });
        ws.terminate();
        return;
      }
      this.missed++;
      try {
        ws.ping();
      } catch {
        /* closing */
      }
    }, this.opts.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

function tryJson(raw: string | Buffer): unknown {
  try {
    return JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    return null;
  }
}

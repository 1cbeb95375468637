/** One agent's websocket connection: where it is in the handshake, what it said in its hello, its delivery state. */
import type { ErrorFrame, HelloFrame, TrustStatusFrame } from "@trellis/protocol";
import { type RawData, WebSocket } from "ws";
import type { SyncState } from "../repositories/index.ts";
import { type Delivery, newDelivery } from "./delivery.ts";

/** awaiting-hello → registering (token check, registration; frames wait in the backlog) → ready → closed. */
export type Phase = "awaiting-hello" | "registering" | "ready" | "closed";

export interface AgentSessionInfo {
  sessionId: number;
  instanceId: string;
  service: string;
  version: string;
  remote: string;
  connectedAt: string;
  syncState: SyncState;
  sentVersion: number;
  ackedVersion: number;
  inFlight: { version: number; sentAt: string } | null;
  pending: boolean;
  lastError: string | null;
  telemetryFrames: number;
  invalidFrames: number;
  /** The validity of the last certificate issued to it on this connection (null: none yet). */
  certificate: { notBefore: string; notAfter: string } | null;
}

export class AgentSession {
  phase: Phase = "awaiting-hello";
  hello: HelloFrame | null = null;
  delivery: Delivery = newDelivery();
  invalidFrames = 0;
  missedPongs = 0;
  telemetryFrames = 0;
  /** Id of the join token this agent presented. */
  tokenId: string | null = null;
  csrInFlight = false;
  certificatesIssued = 0;
  /** The last certificate issued on this connection. */
  certificate: { notBefore: string; notAfter: string } | null = null;
  /** The agent's last `trust-status` (CA rotation progress). */
  trust: TrustStatusFrame | null = null;
  backlog: RawData[] = [];
  helloTimer: NodeJS.Timeout | null = null;
  readonly connectedAt = new Date();

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly remote: string,
  ) {}

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: string): void {
    this.ws.send(data);
  }

  sendError(e: Omit<ErrorFrame, "type">): void {
    if (!this.open) return;
    const frame: ErrorFrame = { type: "error", ...e };
    this.ws.send(JSON.stringify(frame));
  }

  clearHelloTimer(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  /** Fatal error frame, then close. */
  fail(code: string, message: string, closeCode: number): void {
    this.sendError({ code, message, fatal: true });
    this.clearHelloTimer();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(closeCode, message.slice(0, 120));
      // A peer that never completes the close handshake is cut off.
      setTimeout(() => this.ws.terminate(), 2_000).unref();
    }
  }

  info(): AgentSessionInfo | null {
    const h = this.hello;
    if (!h || this.phase === "closed") return null;
    const d = this.delivery;
    return {
      sessionId: this.id,
      instanceId: h.instanceId,
      service: h.service,
      version: h.version,
      remote: this.remote,
      connectedAt: this.connectedAt.toISOString(),
      syncState: d.syncState,
      sentVersion: d.sentVersion,
      ackedVersion: d.ackedVersion,
      inFlight: d.inFlight ? { version: d.inFlight.version, sentAt: new Date(d.inFlight.sentAt).toISOString() } : null,
      pending: d.pending,
      lastError: d.lastError,
      telemetryFrames: this.telemetryFrames,
      invalidFrames: this.invalidFrames,
      certificate: this.certificate,
    };
  }
}

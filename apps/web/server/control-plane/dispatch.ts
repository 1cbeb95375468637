/**
 * Every frame an agent sends, validated with `parseAgentFrame` and routed by type. The first frame must be a valid
 * `hello` (anything else is fatal, close 4002); frames that arrive while the hello is checked wait in the session's
 * backlog. Later, an invalid frame gets a non-fatal `error` frame; the socket is closed only after `maxInvalidFrames`.
 * Other agents are never affected.
 */
import type { Span, TelemetryWindow } from "@trellis/protocol";
import { parseAgentFrame } from "@trellis/protocol";
import type { RawData } from "ws";
import type { Logger } from "../log.ts";
import type { DenialStore } from "../security/denials.ts";
import type { CertificateIssuer } from "./certificates.ts";
import type { Handshake } from "./handshake.ts";
import type { ControlPlaneMetrics } from "./metrics.ts";
import { CLOSE_PROTOCOL } from "./options.ts";
import type { SnapshotSender } from "./sender.ts";
import type { AgentSession } from "./session.ts";
import type { TrustPush } from "./trust.ts";

export interface DispatchDeps {
  handshake: Pick<Handshake, "admit">;
  sender: Pick<SnapshotSender, "ack" | "nack">;
  certificates: Pick<CertificateIssuer, "request">;
  /** The trust bundle to each registered agent, and their `trust-status` reports. */
  trust?: Pick<TrustPush, "joined" | "status">;
  /** Telemetry windows go straight into the in-memory store (synchronous, no I/O). */
  store: { ingest(window: TelemetryWindow): void };
  /** Where authorization denials from telemetry go. */
  denials?: Pick<DenialStore, "ingest">;
  /** Receives the spans of every telemetry frame (synchronous enqueue; the writes happen elsewhere). */
  spans?: { enqueue(spans: Span[]): void };
  log: Logger;
  maxInvalidFrames: number;
  metrics?: Pick<ControlPlaneMetrics, "telemetryFrame">;
}

export class FrameDispatcher {
  constructor(private readonly deps: DispatchDeps) {}

  onMessage(session: AgentSession, data: RawData): void {
    if (session.phase === "closed") return;
    if (session.phase === "registering") {
      session.backlog.push(data);
      return;
    }
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const parsed = parseAgentFrame(raw);
    const { log } = this.deps;
    if (session.phase === "awaiting-hello") {
      if (!parsed.ok) {
        log.warn("agent rejected", { remote: session.remote, reason: "invalid first frame", error: parsed.error });
        session.fail("invalid-frame", `first frame must be a valid hello: ${parsed.error}`, CLOSE_PROTOCOL);
        return;
      }
      if (parsed.frame.type !== "hello") {
        log.warn("agent rejected", { remote: session.remote, reason: "frame before hello", type: parsed.frame.type });
        session.fail("hello-required", `first frame must be hello, got ${parsed.frame.type}`, CLOSE_PROTOCOL);
        return;
      }
      this.deps.handshake.admit(session, parsed.frame).then(
        (ready) => {
          if (!ready) return;
          this.deps.trust?.joined(session);
          const backlog = session.backlog;
          session.backlog = [];
          for (const d of backlog) this.onMessage(session, d);
        },
        (err: unknown) => {
          log.error("agent handshake failed", { remote: session.remote, error: err as Error });
          session.fail("internal", "handshake failed", 1011);
        },
      );
      return;
    }
    if (!parsed.ok) {
      this.invalidFrame(session, parsed.error);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case "telemetry":
        session.telemetryFrames++;
        this.deps.metrics?.telemetryFrame();
        this.deps.store.ingest(frame.window);
        if (frame.window.denials.length > 0) this.deps.denials?.ingest(frame.window.denials);
        if (frame.window.spans.length > 0) this.deps.spans?.enqueue(frame.window.spans);
        return;
      case "ack":
        this.deps.sender.ack(session, frame);
        return;
      case "nack":
        this.deps.sender.nack(session, frame);
        return;
      case "hello":
        session.sendError({ code: "already-registered", message: "hello already received on this connection", fatal: false });
        return;
      case "csr":
        this.deps.certificates.request(session, frame);
        return;
      case "trust-status":
        this.deps.trust?.status(session, frame);
        return;
    }
  }

  private invalidFrame(session: AgentSession, error: string): void {
    session.invalidFrames++;
    const h = session.hello;
    this.deps.log.warn("invalid agent frame", {
      instanceId: h?.instanceId,
      service: h?.service,
      error: error.slice(0, 500),
      count: session.invalidFrames,
    });
    if (session.invalidFrames >= this.deps.maxInvalidFrames) {
      session.fail("too-many-invalid-frames", `${session.invalidFrames} invalid frames`, CLOSE_PROTOCOL);
      return;
    }
    session.sendError({ code: "invalid-frame", message: error, fatal: false });
  }
}

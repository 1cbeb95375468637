/**
 * A scripted agent speaking the control protocol over a real websocket, for tests, the bench's simulated fleet and
 * manual checks. Every frame it receives is parsed with @trellis/protocol's schemas (one that does not parse is kept
 * as an `invalid` frame, never trusted); every frame object it sends is validated with them first.
 */
import {
  type AgentFrame,
  agentFrameSchema,
  type ConsoleFrame,
  formatIssues,
  type HelloFrame,
  type MeshSnapshot,
  meshSnapshotSchema,
  PROTOCOL_VERSION,
  parseConsoleFrame,
  type SnapshotFrame,
  type TelemetryWindowInput,
} from "@trellis/protocol";
import WebSocket from "ws";
import type { z } from "zod";

export type AgentFrameInput = z.input<typeof agentFrameSchema>;
/** A frame from the console, parsed; or one that did not parse. Fields are open for tests to read. */
export type Frame = (ConsoleFrame | { type: "invalid"; error: string; raw: string }) & Record<string, unknown>;
export type Snapshot = MeshSnapshot;
/** A snapshot frame whose snapshot parsed with the protocol's mesh snapshot schema. */
export type ParsedSnapshotFrame = Omit<SnapshotFrame, "snapshot"> & { snapshot: MeshSnapshot } & Frame;

export interface FakeAgentOptions {
  service: string;
  version?: string;
  instanceId?: string;
  /** The advertised inbound address (default 127.0.0.1:1). */
  address?: string;
  token: string;
  configVersion?: number;
  /** A PEM CSR (see createCsr) sent right after the hello, as an agent asks for its certificate on every connection. */
  csr?: string;
  /** Ack every snapshot automatically (default true). */
  autoAck?: boolean;
  /**
   * Parse each snapshot's body with the mesh snapshot schema, as the agent does when it applies it, and NACK one that
   * does not parse (default true). The frame itself is always parsed; a bench measuring the console rather than its
   * simulated fleet may turn this off.
   */
  checkSnapshots?: boolean;
  /** Keep every frame in `frames` (default true; a large simulated fleet turns it off). */
  record?: boolean;
  /** Called with every frame received, after the automatic ack. */
  onFrame?: (frame: Frame) => void;
}

export class FakeAgent {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];
  private ws: WebSocket | undefined;
  private seen = 0;

  /** `baseUrl`: the console's ws://host:port; the agent connects to its /ws/agents. */
  constructor(
    readonly baseUrl: string,
    readonly opts: FakeAgentOptions,
  ) {
    opts.instanceId ??= `${opts.service}-${opts.version ?? "v1"}-${Math.random().toString(36).slice(2, 8)}`;
  }

  get instanceId(): string {
    return this.opts.instanceId!;
  }

  get hello(): HelloFrame {
    const o = this.opts;
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      token: o.token,
      service: o.service,
      version: o.version ?? "v1",
      instanceId: this.instanceId,
      inboundAddress: o.address ?? "127.0.0.1:1",
      ports: { inbound: 1, outbound: 2, admin: 3, app: 4 },
      agentVersion: "fake-0.0.1",
      configVersion: o.configVersion ?? 0,
    };
  }

  /** Opens the socket and (unless `sendHello` is false) says hello; resolves once the socket is open. */
  async connect(sendHello = true): Promise<this> {
    const ws = new WebSocket(`${this.baseUrl.replace(/\/$/, "")}/ws/agents`, { perMessageDeflate: false, maxPayload: 32 * 1024 * 1024 });
    this.ws = ws;
    ws.on("message", (data) => this.receive(data.toString()));
    ws.on("close", (code) => {
      this.closeCode = code;
      for (const w of this.closeWaiters.splice(0)) w(code);
    });
    ws.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    if (sendHello) {
      this.send(this.hello);
      if (this.opts.csr) this.send({ type: "csr", csr: this.opts.csr });
    }
    return this;
  }

  private receive(raw: string): void {
    const parsed = parseConsoleFrame(raw);
    let frame = (parsed.ok ? parsed.frame : { type: "invalid", error: parsed.error, raw }) as Frame;
    // A snapshot frame carries its snapshot unparsed (the agent NACKs one it cannot apply): parse it as the agent does.
    let snapshotError: string | undefined;
    if (frame.type === "snapshot" && this.opts.checkSnapshots !== false) {
      const snap = meshSnapshotSchema.safeParse(frame.snapshot);
      if (snap.success) frame = { ...frame, snapshot: snap.data } as Frame;
      else snapshotError = formatIssues(snap.error);
      if (snapshotError) frame = { ...frame, snapshotError } as Frame;
    }
    if (this.opts.record !== false) this.frames.push(frame);
    if (frame.type === "snapshot" && this.opts.autoAck !== false) {
      const { version, nonce } = frame as SnapshotFrame;
      this.send(snapshotError ? { type: "nack", version, nonce, error: snapshotError.slice(0, 4096) } : { type: "ack", version, nonce });
    }
    this.opts.onFrame?.(frame);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(frame)) return true;
      w.resolve(frame);
      return false;
    });
  }

  /**
   * Sends a frame. An object is validated with the protocol's agent frame schema first (throws if it is not a valid
   * frame); a string is sent as it is — the way to send malformed or invalid frames on purpose.
   */
  send(frame: AgentFrameInput | string): void {
    if (typeof frame === "string") {
      this.ws?.send(frame);
      return;
    }
    const r = agentFrameSchema.safeParse(frame);
    if (!r.success) throw new Error(`not a valid agent frame (${formatIssues(r.error)}); send it as a string to mean it`);
    this.ws?.send(JSON.stringify(frame));
  }

  sendTelemetry(window: TelemetryWindowInput): void {
    this.send({ type: "telemetry", window });
  }

  /** Next frame (after those already consumed) matching `pred`, within `timeoutMs`. Needs `record` (the default). */
  next(pred: (f: Frame) => boolean, timeoutMs = 5_000, what = "frame"): Promise<Frame> {
    for (let i = this.seen; i < this.frames.length; i++) {
      if (pred(this.frames[i])) {
        this.seen = i + 1;
        return Promise.resolve(this.frames[i]);
      }
    }
    this.seen = this.frames.length;
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          this.seen = this.frames.length;
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.opts.service}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next snapshot frame whose (parsed) snapshot `pred` accepts. */
  nextSnapshot(pred: (snap: Snapshot) => boolean = () => true, timeoutMs = 5_000): Promise<ParsedSnapshotFrame> {
    return this.next(
      (f) => f.type === "snapshot" && !f.snapshotError && pred((f as ParsedSnapshotFrame).snapshot),
      timeoutMs,
      "snapshot",
    ) as Promise<ParsedSnapshotFrame>;
  }

  /** Resolves with the close code once the socket is closed. */
  closed(timeoutMs = 5_000): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.opts.service}: timed out waiting for close`)), timeoutMs);
      this.closeWaiters.push((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws?.close();
  }

  /** Drops the connection without a close handshake (a crashed agent). */
  terminate(): void {
    this.ws?.terminate();
  }
}

/** The sorted endpoint addresses of `service` in a snapshot. */
export function endpointsOf(snap: Snapshot, service: string): string[] {
  return (snap.services.find((s) => s.name === service)?.endpoints ?? []).map((e) => e.address).sort();
}

export type { AgentFrame };

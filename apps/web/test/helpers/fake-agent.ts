/** A scripted agent speaking the real protocol over a real websocket (for integration tests and manual checks). */
import { type HelloFrame, PROTOCOL_VERSION, parseConsoleFrame, type TelemetryWindowInput as TelemetryWindow } from "@trellis/protocol";
import WebSocket from "ws";

export type Frame = { type: string; [k: string]: unknown };

export interface FakeAgentOptions {
  service: string;
  version?: string;
  instanceId?: string;
  address?: string;
  token: string;
  configVersion?: number;
  /** Ack every snapshot automatically (default true). */
  autoAck?: boolean;
}

export class FakeAgent {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private closeWaiters: ((code: number) => void)[] = [];
  private ws!: WebSocket;
  private seen = 0;

  constructor(
    readonly wsUrl: string,
    readonly opts: FakeAgentOptions,
  ) {}

  get hello(): HelloFrame {
    const o = this.opts;
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      token: o.token,
      service: o.service,
      version: o.version ?? "v1",
      instanceId: o.instanceId ?? `${o.service}-${o.version ?? "v1"}-${Math.random().toString(36).slice(2, 8)}`,
      inboundAddress: o.address ?? "127.0.0.1:1",
      ports: { inbound: 1, outbound: 2, admin: 3, app: 4 },
      agentVersion: "fake-0.0.1",
      configVersion: o.configVersion ?? 0,
    };
  }

  async connect(sendHello = true): Promise<this> {
    const hello = this.hello;
    this.opts.instanceId = hello.instanceId;
    this.ws = new WebSocket(`${this.wsUrl}/ws/agents`);
    this.ws.on("message", (data) => {
      const parsed = parseConsoleFrame(data.toString());
      const frame = (parsed.ok ? parsed.frame : { type: "unparseable", raw: data.toString() }) as Frame;
      this.frames.push(frame);
      if (frame.type === "snapshot" && this.opts.autoAck !== false) {
        this.send({ type: "ack", version: frame.version, nonce: frame.nonce });
      }
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(frame)) {
          w.resolve(frame);
          return false;
        }
        return true;
      });
    });
    this.ws.on("close", (code) => {
      this.closeCode = code;
      for (const w of this.closeWaiters) w(code);
    });
    this.ws.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    if (sendHello) this.send(hello);
    return this;
  }

  get instanceId(): string {
    return this.opts.instanceId!;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Next frame (after those already consumed) matching `pred`, within `timeoutMs`. */
  next(pred: (f: Frame) => boolean, timeoutMs = 5_000, what = "frame"): Promise<Frame> {
    for (let i = this.seen; i < this.frames.length; i++) {
      if (pred(this.frames[i])) {
        this.seen = i + 1;
        return Promise.resolve(this.frames[i]);
      }
    }
    this.seen = this.frames.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.opts.service}: timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          this.seen = this.frames.length;
          resolve(f);
        },
      });
    });
  }

  nextSnapshot(pred: (snap: Snapshot) => boolean = () => true, timeoutMs = 5_000): Promise<Frame & { version: number; snapshot: Snapshot }> {
    return this.next((f) => f.type === "snapshot" && pred(f.snapshot as Snapshot), timeoutMs, "snapshot") as Promise<
      Frame & { version: number; snapshot: Snapshot }
    >;
  }

  closed(timeoutMs = 5_000): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for close")), timeoutMs);
      this.closeWaiters.push((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendTelemetry(window: TelemetryWindow): void {
    this.send({ type: "telemetry", window });
  }

  close(): void {
    this.ws?.close();
  }
}

export interface Snapshot {
  version: number;
  service: string;
  services: { name: string; versions: string[]; endpoints: { address: string; version: string; instanceId: string }[] }[];
}

export function endpointsOf(snap: Snapshot, service: string): string[] {
  return (snap.services.find((s) => s.name === service)?.endpoints ?? []).map((e) => e.address).sort();
}

/**
 * An HTTP/2 upstream (node:http2) behind undici's dispatcher interface, so the exchange drives it exactly as it drives
 * an undici Pool: one multiplexed connection (session) per origin, opened on first use through the given `connect`
 * (mTLS with ALPN `h2`, or plaintext h2c with prior knowledge). Response trailers are passed on (gRPC's status lives
 * there), flow control and stream limits are nghttp2's. GOAWAY from the peer (a draining agent or app): the streams in
 * flight finish on the old session, new ones open a new session; a bodiless request the peer refused unprocessed
 * (REFUSED_STREAM, or above the GOAWAY's last stream id) is sent again on the new session.
 */
import http2 from "node:http2";
import type { Duplex, Readable } from "node:stream";
import type { Dispatcher } from "undici";

export type H2Connect = (cb: (err: Error | null, socket: Duplex | null) => void) => void;

export interface H2ClientOptions {
  scheme: "http" | "https";
  /** A response head not received within this long fails the call (undici's headersTimeout). */
  headersTimeoutMs: number;
  /** No response bytes for this long, once the head arrived (undici's bodyTimeout; the exchange may lower it). */
  bodyTimeoutMs: number;
  /** A session with no stream for this long is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_H2_OPTIONS: Omit<H2ClientOptions, "scheme"> = { headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000, idleTimeoutMs: 60_000 };

type Handler = Dispatcher.DispatchHandler & {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
  onBodySent?(chunk: Buffer): void;
};

interface Waiting {
  opts: Dispatcher.DispatchOptions;
  handler: Handler;
  gone: boolean;
}

class H2Error extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;
/** Response window per stream and per session: room for a fast stream without waiting on WINDOW_UPDATEs. */
const STREAM_WINDOW = 1 << 20;
const SESSION_WINDOW = 8 << 20;

function requestHeaders(opts: Dispatcher.DispatchOptions, scheme: string): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ":method": opts.method, ":path": opts.path, ":scheme": scheme };
  const flat = opts.headers as string[] | null | undefined;
  if (flat) {
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i].toLowerCase();
      const value = flat[i + 1];
      if (name === "host") out[":authority"] = value;
      else {
        const prev = out[name];
        if (prev === undefined) out[name] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else out[name] = [String(prev), value];
      }
    }
  }
  // The client relays trailers (gRPC's status): say so, as HTTP/2 allows for `te` and gRPC servers expect.
  out.te = "trailers";
  return out;
}

function rawHeaders(headers: http2.IncomingHttpHeaders): Buffer[] {
  const out: Buffer[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const v = headers[name];
    if (Array.isArray(v)) for (const x of v) out.push(Buffer.from(name), Buffer.from(x, "latin1"));
    else if (v !== undefined) out.push(Buffer.from(name), Buffer.from(String(v), "latin1"));
  }
  return out;
}

function flatTrailers(t: http2.IncomingHttpHeaders | null): string[] | null {
  if (t === null) return null;
  const out: string[] = [];
  for (const name in t) {
    if (name.charCodeAt(0) === 58) continue;
    const v = t[name];
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else if (v !== undefined) out.push(name, String(v));
  }
  return out;
}

export class H2Client {
  private session: http2.ClientHttp2Session | null = null;
  private connecting = false;
  private waiting: Waiting[] = [];
  private closed = false;
  /** Streams open on any of this client's sessions (the draining ones included). */
  private open = 0;

  constructor(
    private readonly origin: string,
    private readonly connect: H2Connect,
    private readonly opts: H2ClientOptions,
  ) {}

  get inFlight(): number {
    return this.open + this.waiting.length;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const h = handler as Handler;
    if (this.closed) {
      h.onError(new H2Error("the HTTP/2 client is closed", "UND_ERR_CLOSED"));
      return false;
    }
    const s = this.session;
    if (s !== null && !s.closed && !s.destroyed) {
      this.start(s, opts, h);
      return true;
    }
    const w: Waiting = { opts, handler: h, gone: false };
    this.waiting.push(w);
    h.onConnect((err?: Error) => {
      if (w.gone) return;
      w.gone = true;
      this.waiting = this.waiting.filter((x) => x !== w);
      h.onError(err ?? new H2Error("aborted", "UND_ERR_ABORTED"));
    });
    if (!this.connecting) this.openSession();
    return true;
  }

  private openSession(): void {
    this.connecting = true;
    this.connect((err, socket) => {
      this.connecting = false;
      const waiting = this.waiting;
      this.waiting = [];
      if (err !== null || socket === null || this.closed) {
        const e = err ?? new H2Error("the HTTP/2 client is closed", "UND_ERR_CLOSED");
        socket?.destroy();
        for (const w of waiting) {
          if (w.gone) continue;
          w.gone = true;
          w.handler.onError(e);
        }
        return;
      }
      const session = http2.connect(this.origin, {
        createConnection: () => socket,
        settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
        maxSessionMemory: 64,
      });
      session.once("localSettings", () => session.setLocalWindowSize(SESSION_WINDOW));
      session.on("error", () => {}); // reported to each stream
      session.on("goaway", () => this.retire(session));
      session.on("close", () => this.retire(session));
      session.setTimeout(this.opts.idleTimeoutMs, () => {
        if (this.session === session && this.open === 0) {
          this.retire(session);
          session.close();
        }
      });
      this.session = session;
      for (const w of waiting) {
        if (w.gone) continue;
        w.gone = true;
        this.start(session, w.opts, w.handler);
      }
    });
  }

  /** No new streams on `session` (GOAWAY, closed, idle): the next dispatch opens another. */
  private retire(session: http2.ClientHttp2Session): void {
    if (this.session === session) this.session = null;
  }

  private start(session: http2.ClientHttp2Session, opts: Dispatcher.DispatchOptions, h: Handler): void {
    // A Buffer is a body kept for replay (retries, mirror copies: proxy/replay-body.ts); a Readable streams through.
    const body = (opts.body ?? null) as Buffer | Readable | null;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(requestHeaders(opts, this.opts.scheme), { endStream: body === null });
    } catch (err) {
      // The session went away between the check and the request (GOAWAY just arrived): use a new one.
      this.retire(session);
      if (!this.closed && (err as NodeJS.ErrnoException).code === "ERR_HTTP2_GOAWAY_SESSION") return void this.dispatch(opts, h);
      h.onError(err as Error);
      return;
    }
    this.open++;
    let finished = false;
    let head = false;
    let trailers: http2.IncomingHttpHeaders | null = null;
    let lastError: Error | null = null;
    const finish = (): boolean => {
      if (finished) return false;
      finished = true;
      this.open--;
      return true;
    };
    h.onConnect((err?: Error) => {
      if (!finish()) return;
      if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
      h.onError(err ?? new H2Error("aborted", "UND_ERR_ABORTED"));
    });
    if (finished) return;
    stream.setTimeout(this.opts.headersTimeoutMs, () => {
      if (!finish()) return;
      stream.close(NGHTTP2_CANCEL);
      const bodyTimeout = (opts as { bodyTimeout?: number }).bodyTimeout ?? this.opts.bodyTimeoutMs;
      h.onError(
        head
          ? new H2Error(`no response bytes for ${bodyTimeout} ms`, "UND_ERR_BODY_TIMEOUT")
          : new H2Error(`no response head within ${this.opts.headersTimeoutMs} ms`, "UND_ERR_HEADERS_TIMEOUT"),
      );
    });
    stream.on("response", (headers) => {
      if (finished) return;
      head = true;
      stream.setTimeout((opts as { bodyTimeout?: number }).bodyTimeout ?? this.opts.bodyTimeoutMs);
      const status = Number(headers[":status"]);
      if (h.onHeaders(status, rawHeaders(headers), () => stream.resume(), "") === false) stream.pause();
    });
    stream.on("data", (chunk: Buffer) => {
      if (!finished && h.onData(chunk) === false) stream.pause();
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("end", () => {
      if (!head || !finish()) return;
      h.onComplete(flatTrailers(trailers));
    });
    stream.on("error", (err) => {
      lastError = err;
    });
    stream.on("close", () => {
      if (finished) return;
      // Refused before any processing (GOAWAY or REFUSED_STREAM): safe to send again when the body, if any, is kept.
      if (!head && (body === null || Buffer.isBuffer(body)) && stream.rstCode === NGHTTP2_REFUSED_STREAM && !this.closed) {
        finish();
        this.retire(session);
        this.dispatch(opts, h);
        return;
      }
      if (!finish()) return;
      if (head && stream.rstCode === NGHTTP2_NO_ERROR && lastError === null) return void h.onComplete(flatTrailers(trailers));
      h.onError(lastError ?? new H2Error(`stream reset by the peer (HTTP/2 error code ${stream.rstCode})`, "UND_ERR_SOCKET"));
    });
    if (Buffer.isBuffer(body)) {
      h.onBodySent?.(body);
      stream.end(body);
    } else if (body !== null) {
      body.on("data", (chunk: Buffer) => h.onBodySent?.(chunk));
      body.pipe(stream);
    }
  }

  /** Graceful: sessions close after their streams; nothing new is accepted. */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = null;
    if (s !== null && !s.closed) await new Promise<void>((resolve) => s.close(resolve));
  }

  async destroy(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = null;
    s?.destroy();
  }
}

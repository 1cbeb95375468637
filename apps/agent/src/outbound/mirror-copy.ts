/**
 * One mirrored copy of a call (outbound/mirror.ts): sent to the mirror version's endpoint as an undici dispatch whose
 * answer is read and thrown away, bounded by a timeout, and recorded on the mirror edge when it ends. Nothing here
 * touches the original exchange: a copy that fails or hangs only ends itself.
 */
import { MIRROR_HEADER } from "@trellis/protocol";
import type { Dispatcher } from "undici";
import type { EdgeGroup } from "../telemetry/edges.ts";

/** What owns the copies in flight (the mirror layer's concurrency bound). */
export interface CopyOwner {
  copyDone(): void;
}

/** `payments` → `payments-shadow`, `payments:8080` → `payments-shadow:8080` (Istio's shadow host). */
export function shadowHost(host: string): string {
  const colon = host.lastIndexOf(":");
  // An IPv6 literal's colons are inside brackets; a port follows the closing one.
  if (colon > 0 && colon > host.lastIndexOf("]")) return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
  return `${host}-shadow`;
}

/** The copy's headers: the call's own, Host marked as a shadow, plus `x-trellis-mirror: 1`. */
export function shadowHeaders(headers: readonly string[], service: string): string[] {
  const out: string[] = [];
  let host = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase();
    if (name === MIRROR_HEADER) continue;
    if (name === "host") {
      host = true;
      out.push(headers[i], shadowHost(headers[i + 1]));
    } else out.push(headers[i], headers[i + 1]);
  }
  if (!host) out.push("host", shadowHost(service));
  out.push(MIRROR_HEADER, "1");
  return out;
}

function onCopyTimeout(copy: MirrorCopy): void {
  copy.timedOut();
}

export class MirrorCopy {
  private abortFn: ((err?: Error) => void) | null = null;
  private timer: NodeJS.Timeout | null;
  private status = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private expired = false;
  private finished = false;
  private readonly start = performance.now();

  constructor(
    private readonly owner: CopyOwner,
    private readonly edge: EdgeGroup,
    private readonly mtls: boolean,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(onCopyTimeout, timeoutMs, this);
  }

  send(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions): void {
    try {
      dispatcher.dispatch(opts, this as unknown as Dispatcher.DispatchHandler);
    } catch {
      this.finish(502, true); // a closed pool (the endpoint left the snapshot)
    }
  }

  timedOut(): void {
    this.timer = null;
    this.expired = true;
    if (this.abortFn !== null) this.abortFn(new Error("mirror timeout"));
  }

  private finish(status: number, error: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.abortFn = null;
    this.edge.record(status, error, performance.now() - this.start, this.bytesIn, this.bytesOut, this.mtls);
    this.owner.copyDone();
  }

  // ---- undici dispatch handler (legacy API), the answer discarded ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.expired) abort(new Error("mirror timeout"));
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode >= 200) this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    return true;
  }

  onComplete(): void {
    this.finish(this.status, false);
  }

  onError(): void {
    this.finish(this.expired ? 504 : 502, true);
  }

  onBodySent(chunk: Buffer | string | number): void {
    this.bytesOut += typeof chunk === "number" ? chunk : chunk.length;
  }
}

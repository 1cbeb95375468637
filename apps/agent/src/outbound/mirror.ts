/**
 * mirror: traffic mirroring (shadowing), as Istio's `mirror`: for the share of calls the policy names, a copy goes to
 * the mirror version — Host marked `<service>-shadow`, `x-trellis-mirror: 1` — fire and forget. The call itself goes
 * on at once; the copy's answer is discarded (outbound/mirror-copy.ts) and recorded on its own mirror edge.
 *
 * The copy must never slow or fail the call: at most MAX_MIRRORS_IN_FLIGHT copies are in flight per agent (beyond,
 * a copy is dropped and counted), each is bounded by the call's timeout, and only calls whose body was kept in
 * memory (≤ 64 KiB, proxy/replay-body.ts, also what a retry replays) are copied. Upgrades (WebSockets) are not.
 */
import { DEFAULT_TIMEOUT_MS } from "@trellis/protocol";
import type { MirrorTarget } from "../config/routes.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer, Stack } from "../proxy/layer.ts";
import { type BodyWaiter, bufferBody, isReplayable } from "../proxy/replay-body.ts";
import { type CopyOwner, MirrorCopy, shadowHeaders } from "./mirror-copy.ts";
import { pickTarget } from "./pickers.ts";

export const MAX_MIRRORS_IN_FLIGHT = 64;

const monotonic = (): number => performance.now();

export class MirrorLayer implements Layer, BodyWaiter, CopyOwner {
  readonly name = "mirror";
  /** Copies sent and not yet ended. */
  inflight = 0;

  constructor(
    private readonly maxInFlight = MAX_MIRRORS_IN_FLIGHT,
    private readonly now: () => number = monotonic,
  ) {}

  onRequest(ex: Exchange): boolean {
    const m = ex.mirror;
    // HTTP/2 calls (gRPC) are not copied yet: a copy goes out on the endpoint's HTTP/1.1 pool, which a gRPC server refuses.
    if (m === null || ex.upgrade !== null || ex.h2) return true;
    if (m.percent < 100 && Math.random() * 100 >= m.percent) return true;
    if (ex.hasBody && ex.bodySource === null) {
      bufferBody(ex, this); // resumes in bodyReady
      return false;
    }
    this.copy(ex, m);
    return true;
  }

  bodyReady(ex: Exchange): void {
    this.copy(ex, ex.mirror!);
    (ex.stack as Stack).resumeAfter(ex, this);
  }

  copyDone(): void {
    this.inflight--;
  }

  private copy(ex: Exchange, m: MirrorTarget): void {
    // Over the concurrency bound, or a body too large to keep: no copy (the call itself is untouched).
    if (this.inflight >= this.maxInFlight || !isReplayable(ex)) {
      m.edge.mirrorsDropped++;
      return;
    }
    const route = ex.route!;
    const target = pickTarget(m.set, route.loadBalancer, this.now(), false);
    const copy = new MirrorCopy(this, m.edge, target?.ep.tls === true, route.timeoutMs > 0 ? route.timeoutMs : DEFAULT_TIMEOUT_MS);
    this.inflight++;
    if (target === null) {
      copy.onError(); // no healthy endpoint of the mirror version: a failed copy
      return;
    }
    copy.send(target.ep.pool, {
      path: ex.path,
      method: ex.req.method as never,
      headers: shadowHeaders(ex.headers, ex.service),
      body: ex.hasBody ? (ex.bodySource as Buffer) : null,
    });
  }
}

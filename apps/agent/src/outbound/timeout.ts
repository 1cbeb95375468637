/**
 * timeout: the destination service's `timeoutMs` bounds the whole call (until the response is complete).
 * Before the response starts the client gets 504 `timeout`; after, the response is cut. 0 disables.
 */
import { errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer } from "../proxy/layer.ts";

function onTimeout(ex: Exchange): void {
  ex.timer = null;
  if (ex.isDone()) return;
  // Answer first (the exchange is then done), then abort: undici's abort reports synchronously and is ignored.
  ex.fail(errors.timeout(ex.service, ex.route!.timeoutMs));
  ex.cancelUpstream();
}

export class TimeoutLayer implements Layer {
  readonly name = "timeout";

  onRequest(ex: Exchange): boolean {
    const ms = ex.route!.timeoutMs;
    if (ms > 0) ex.timer = setTimeout(onTimeout, ms, ex);
    return true;
  }

  onComplete(ex: Exchange): void {
    if (ex.timer !== null) {
      clearTimeout(ex.timer);
      ex.timer = null;
    }
  }
}

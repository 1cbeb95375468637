/**
 * fault: fault injection for resilience testing — delays and/or aborts a percentage of the calls to a service, as
 * its policy says. Aborted calls get the configured status with `x-trellis-error: fault-injected`. A delay never
 * outlasts a gRPC call's deadline (the call then ends DEADLINE_EXCEEDED at its deadline, see timeout.ts).
 */
import { CLIENT_CLOSED_STATUS, errors } from "../errors.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Layer, Stack } from "../proxy/layer.ts";

function resume(ex: Exchange, layer: FaultLayer): void {
  ex.faultTimer = null;
  if (ex.isDone()) return;
  if (ex.clientGone) {
    ex.status = CLIENT_CLOSED_STATUS;
    ex.error = errors.clientClosed();
    (ex.stack as Stack).complete(ex);
    return;
  }
  (ex.stack as Stack).resumeAfter(ex, layer);
}

export class FaultLayer implements Layer {
  readonly name = "fault";

  onRequest(ex: Exchange): boolean {
    const f = ex.route!.fault;
    if (f === null) return true;
    const abort = f.abort;
    if (abort !== undefined && abort.percent > 0 && Math.random() * 100 < abort.percent) {
      ex.fail(errors.faultAbort(ex.service, abort.status));
      return false;
    }
    const delay = f.delay;
    if (delay !== undefined && delay.percent > 0 && delay.ms > 0 && Math.random() * 100 < delay.percent) {
      // A gRPC deadline runs during the delay: the call resumes no later than it, and the timeout layer below ends it.
      const ms = ex.grpcTimeoutMs === null ? delay.ms : Math.min(delay.ms, Math.max(0, ex.grpcTimeoutMs - (performance.now() - ex.start)));
      ex.faultTimer = setTimeout(resume, ms, ex, this);
      return false;
    }
    return true;
  }

  onComplete(ex: Exchange): void {
    if (ex.faultTimer !== null) {
      clearTimeout(ex.faultTimer);
      ex.faultTimer = null;
    }
  }
}

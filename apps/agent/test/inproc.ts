/**
 * In-process harness for the request path: real stacks and layers, real exchanges, a fake clock, and fake upstream
 * dispatchers that answer when the test says so. No sockets, no processes, no sleeps.
 */
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { type MeshSnapshotInput, meshSnapshotSchema } from "@trellis/protocol";
import type { Pool } from "undici";
import { ConfigState } from "../src/config/state.ts";
import { inboundStack } from "../src/inbound/stack.ts";
import { createLogger, RateLimitedLog } from "../src/log.ts";
import { outboundStack } from "../src/outbound/stack.ts";
import { Exchange, ProxyResponse } from "../src/proxy/exchange.ts";
import type { Stack } from "../src/proxy/layer.ts";
import { DenialCounter } from "../src/telemetry/denials.ts";
import { EdgeRegistry } from "../src/telemetry/edges.ts";
import { ProxyErrorCounter } from "../src/telemetry/proxy-errors.ts";
import { EndpointRegistry } from "../src/upstream/endpoints.ts";
import type { H2Client } from "../src/upstream/h2-client.ts";

export class FakeClock {
  constructor(public t = 1_000_000) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Handler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(status: number, raw: Buffer[], resume: () => void, text: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
}

/** One dispatched attempt, waiting for the test to answer it. */
export class Call {
  constructor(
    readonly address: string,
    readonly path: string,
    readonly handler: Handler,
    /** The dispatched request's headers (flat), as the pool received them. */
    readonly headers: readonly string[] = [],
  ) {
    handler.onConnect(() => {});
  }
  answer(status: number, body = ""): void {
    this.handler.onHeaders(status, [], () => {}, "");
    if (body) this.handler.onData(Buffer.from(body));
    this.handler.onComplete(null);
  }
  error(err: Error): void {
    this.handler.onError(err);
  }
}

/** Stands in for an undici Pool: records calls; `auto` answers at once (after advancing the clock, if given). */
export class FakeUpstream {
  readonly calls: Call[] = [];
  auto: ((call: Call) => void) | null = null;
  constructor(readonly address: string) {}
  dispatch(opts: { path: string; headers?: unknown }, handler: Handler): boolean {
    const call = new Call(this.address, opts.path, handler, Array.isArray(opts.headers) ? (opts.headers as string[]) : []);
    this.calls.push(call);
    this.auto?.(call);
    return true;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  get pending(): Call[] {
    return this.calls;
  }
}

/** A request: an exchange over a socket-less response. `done` tells whether it finished, `status` what was answered. */
export function exchange(service: string, path = "/", method = "GET"): Exchange {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  const ex = new Exchange(req, new ProxyResponse(req));
  ex.service = service;
  ex.path = path;
  ex.headers = [];
  return ex;
}

export function proxyErrorOf(ex: Exchange): string | null {
  return ex.error?.proxyError ?? null;
}

export interface Harness {
  config: ConfigState;
  stack: Stack;
  upstreams: Map<string, FakeUpstream>;
  clock: FakeClock;
  apply(snap: MeshSnapshotInput): void;
  /** Starts a call; returns the exchange (the answer comes when an upstream call is answered). */
  send(service: string, path?: string, method?: string, headers?: string[]): Exchange;
}

/** The outbound stack of agent `self` over fake upstreams, one per endpoint address, all driven by one fake clock. */
export function outboundHarness(self = { service: "web", version: "v1" }, clock = new FakeClock()): Harness {
  const endpoints = new EndpointRegistry();
  const edges = new EdgeRegistry();
  const config = new ConfigState(self, endpoints, edges);
  const upstreams = new Map<string, FakeUpstream>();
  const stack = outboundStack({ config, edges, self, proxyErrors: new ProxyErrorCounter(), now: clock.now });
  return {
    config,
    stack,
    upstreams,
    clock,
    apply(snap) {
      config.apply(meshSnapshotSchema.parse(snap));
      for (const route of config.routes!.services.values())
        for (const t of route.all.targets) {
          if (t.ep.pool instanceof FakeUpstream) continue;
          void t.ep.pool.close();
          let up = upstreams.get(t.ep.address);
          if (up === undefined) {
            up = new FakeUpstream(t.ep.address);
            upstreams.set(t.ep.address, up);
          }
          t.ep.pool = up as unknown as Pool;
        }
    },
    send(service, path = "/", method = "GET", headers = []) {
      const ex = exchange(service, path, method);
      ex.headers = headers;
      stack.run(ex);
      return ex;
    },
  };
}

/** The inbound stack of `service` in front of a fake app. */
export function inboundHarness(service: string) {
  const endpoints = new EndpointRegistry();
  const edges = new EdgeRegistry();
  const self = { service, version: "v1" };
  const config = new ConfigState(self, endpoints, edges);
  const app = new FakeUpstream("app");
  app.auto = (call) => call.answer(200, "ok");
  const denials = new DenialCounter();
  const stack = inboundStack({
    config,
    ingressEdge: edges.get("ingress", "", service, "v1"),
    proxyErrors: new ProxyErrorCounter(),
    appPool: app as unknown as Pool,
    appH2: app as unknown as H2Client,
    appPort: 1,
    denials,
    rateLog: new RateLimitedLog(createLogger({}, "error", () => {})),
    service,
  });
  return {
    config,
    stack,
    app,
    denials,
    apply(snap: MeshSnapshotInput) {
      config.apply(meshSnapshotSchema.parse(snap));
    },
    /** A call from `peer` (its SPIFFE id over mTLS; null: plaintext). */
    send(peer: string | null, path = "/", method = "GET"): Exchange {
      const ex = exchange("", path, method);
      ex.peer = peer;
      ex.mtls = peer !== null;
      stack.run(ex);
      return ex;
    },
  };
}

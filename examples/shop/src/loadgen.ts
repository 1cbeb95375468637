/**
 * The shop's load generator: a realistic mix of shoppers (browse 50%, product page 25%, add to cart 15%,
 * checkout 10%) at a steady rate with evenly spread arrivals, sent ONLY to 127.0.0.1 — to the web instance's agent
 * inbound port, i.e. traffic entering the mesh from outside (web's agent reports it with source `ingress`).
 *
 *   node examples/shop/dist/loadgen.js --port <web agent inbound> [--rps 40] [--duration S] [--requests N]
 *        [--report-every 10] [--seed N] [--min-success 0.95]
 *
 * Runs until stopped unless --duration or --requests bounds it. Prints a summary line every --report-every seconds
 * and a final `loadgen done` line with the totals.
 */
import http from "node:http";
import { parseArgs } from "node:util";
import { type Kind, pickKind, prng, Schedule, Stats } from "./loadmix.ts";
import { OrderFollower } from "./order-follower.ts";
import { PRODUCTS } from "./services/catalog.ts";
import { TEST_CARD } from "./services/web.ts";

export interface LoadgenOptions {
  host: string;
  port: number;
  rps: number;
  durationS?: number;
  requests?: number;
  reportEveryS: number;
  seed: number;
  maxInFlight: number;
  timeoutMs: number;
}

const CATEGORIES = [...new Set(PRODUCTS.map((p) => p.category))];

interface Session {
  cartId: string;
  items: number;
  /** A checkout of this cart is in flight: a real shopper waits for it before adding more or paying again. */
  busy: boolean;
  /** Add-to-cart requests in flight. */
  adding: number;
}

export function parseOptions(argv: string[]): LoadgenOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      port: { type: "string" },
      rps: { type: "string", default: "40" },
      duration: { type: "string" },
      requests: { type: "string" },
      "report-every": { type: "string", default: "10" },
      seed: { type: "string" },
      "max-in-flight": { type: "string", default: "256" },
      timeout: { type: "string", default: "10000" },
      "min-success": { type: "string" },
    },
    strict: true,
  });
  let host = "127.0.0.1";
  let port = values.port ? Number(values.port) : NaN;
  if (values.target) {
    const m = /^([^:]+):(\d+)$/.exec(values.target);
    if (!m) throw new Error("--target must be host:port");
    host = m[1];
    port = Number(m[2]);
  }
  if (host !== "127.0.0.1" && host !== "localhost") throw new Error("the load generator only targets 127.0.0.1");
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error("--port (the web agent's inbound port) is required");
  const rps = Number(values.rps);
  if (!(rps > 0 && rps <= 1000)) throw new Error("--rps must be in (0, 1000]");
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return {
    host: "127.0.0.1",
    port,
    rps,
    durationS: num(values.duration),
    requests: num(values.requests),
    reportEveryS: Number(values["report-every"]),
    seed: values.seed ? Number(values.seed) : (Date.now() ^ process.pid) >>> 0,
    maxInFlight: Number(values["max-in-flight"]),
    timeoutMs: Number(values.timeout),
  };
}

interface Planned {
  kind: Kind;
  method: string;
  path: string;
  body?: unknown;
  cartId?: string;
  session?: Session;
}

/** Turns a kind into a concrete request, using and updating the simulated shoppers' carts. */
export class Shoppers {
  private readonly sessions: Session[];
  constructor(
    private readonly rng: () => number,
    count = 40,
    tag = Math.floor(rng() * 1e9).toString(36),
  ) {
    this.sessions = Array.from({ length: count }, (_, i) => ({ cartId: `lg-${tag}-${i}`, items: 0, busy: false, adding: 0 }));
  }

  private any<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)];
  }

  plan(kind: Kind): Planned {
    switch (kind) {
      case "browse":
        return this.rng() < 0.7
          ? { kind, method: "GET", path: "/products" }
          : { kind, method: "GET", path: `/products?category=${this.any(CATEGORIES)}` };
      case "product":
        return { kind, method: "GET", path: `/products/${this.any(PRODUCTS).id}` };
      case "addToCart": {
        const session = this.any(this.idle());
        session.adding++;
        return {
          kind,
          method: "POST",
          path: "/cart/items",
          cartId: session.cartId,
          session,
          body: { productId: this.any(PRODUCTS).id, qty: 1 + Math.floor(this.rng() * 2) },
        };
      }
      case "checkout": {
        // The shopper with the fullest cart checks out; if nobody has anything yet, someone uses "buy now".
        const idle = this.idle().filter((x) => x.adding === 0);
        const session = (idle.length ? idle : this.sessions).reduce((a, b) => (b.items > a.items ? b : a));
        session.busy = true;
        if (session.items > 0) {
          session.items = 0;
          return { kind, method: "POST", path: "/checkout", cartId: session.cartId, session, body: { card: TEST_CARD } };
        }
        const s = session;
        return {
          kind,
          method: "POST",
          path: "/checkout",
          cartId: s.cartId,
          session: s,
          body: { card: TEST_CARD, buyNow: { productId: this.any(PRODUCTS).id, qty: 1 } },
        };
      }
    }
  }

  /** Shoppers not waiting for a checkout (all of them, in the unlikely case that every one is). */
  private idle(): Session[] {
    const idle = this.sessions.filter((s) => !s.busy);
    return idle.length ? idle : this.sessions;
  }

  done(p: Planned, ok: boolean): void {
    if (p.kind === "addToCart" && p.session) {
      p.session.adding--;
      if (ok) p.session.items++;
    }
    if (p.kind === "checkout" && p.session) p.session.busy = false;
  }
}

/** One request's outcome, for callers that need more than the windowed summaries (the chaos run's timeline). */
export interface LoadResult {
  kind: Kind;
  /** When it was sent, unix ms. */
  sentAt: number;
  ok: boolean;
  ms: number;
  /** The status (with the agent's `x-trellis-error`, if any) or the socket error code. */
  reason: string;
}

export async function runLoad(
  opts: LoadgenOptions,
  out: (line: object) => void = (l) => process.stdout.write(`${JSON.stringify(l)}\n`),
  signal?: AbortSignal,
  onResult?: (r: LoadResult) => void,
) {
  const rng = prng(opts.seed);
  const shoppers = new Shoppers(rng);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxInFlight });
  const started = performance.now();
  const schedule = new Schedule(opts.rps, started);
  const total = new Stats();
  let window = new Stats();
  let windowStart = started;
  let inFlight = 0;
  let dropped = 0;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));

  const ts = () => new Date().toISOString();
  const report = () => {
    const now = performance.now();
    out({
      t: ts(),
      level: "info",
      msg: "loadgen summary",
      target: `${opts.host}:${opts.port}`,
      ...window.summary((now - windowStart) / 1000),
      in_flight: inFlight,
      streams: { ...follower.stats },
    });
    window = new Stats();
    windowStart = now;
  };
  const reporter = setInterval(report, opts.reportEveryS * 1000);
  const follower = new OrderFollower(opts.host, opts.port);

  function send(p: Planned): void {
    const t0 = performance.now();
    const sentAt = Date.now();
    inFlight++;
    const payload = p.body === undefined ? undefined : JSON.stringify(p.body);
    const headers: Record<string, string> = { host: "web", accept: "application/json", "user-agent": "trellis-shop-loadgen" };
    if (p.cartId) headers["x-cart-id"] = p.cartId;
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    let settled = false;
    const settle = (ok: boolean, reason?: string) => {
      if (settled) return;
      settled = true;
      inFlight--;
      const ms = performance.now() - t0;
      shoppers.done(p, ok);
      total.record(p.kind, ok, ms, reason);
      window.record(p.kind, ok, ms, reason);
      onResult?.({ kind: p.kind, sentAt, ok, ms, reason: reason ?? "" });
      if (stopping && inFlight === 0) finish();
    };
    const req = http.request({ host: opts.host, port: opts.port, method: p.method, path: p.path, headers, agent, timeout: opts.timeoutMs }, (res) => {
      // A checkout's answer names the order, which the shopper then follows live; other answers are not read.
      const following = p.kind === "checkout" && res.statusCode !== undefined && res.statusCode < 300;
      const chunks: Buffer[] = [];
      if (following) res.on("data", (c: Buffer) => chunks.push(c));
      else res.resume();
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (following && !stopping) followOrder(Buffer.concat(chunks));
        const why = res.headers["x-trellis-error"];
        settle(status >= 200 && status < 300, why ? `${status} ${why}` : String(status));
      });
      res.on("error", (e: NodeJS.ErrnoException) => settle(false, e.code ?? "response-error"));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (e: NodeJS.ErrnoException) => settle(false, e.code ?? e.message));
    req.end(payload);
  }

  function followOrder(body: Buffer): void {
    try {
      const orderId = (JSON.parse(body.toString("utf8")) as { orderId?: unknown }).orderId;
      if (typeof orderId === "string") follower.follow(orderId);
    } catch {
      // not JSON: nothing to follow
    }
  }

  const tick = () => {
    const now = performance.now();
    if (opts.durationS !== undefined && now - started >= opts.durationS * 1000) return stop();
    let n = schedule.due(now);
    while (n-- > 0) {
      if (opts.requests !== undefined && total.sent + inFlight + dropped >= opts.requests) return stop();
      if (inFlight >= opts.maxInFlight) dropped++;
      else send(shoppers.plan(pickKind(rng)));
    }
    if (opts.requests !== undefined && total.sent + inFlight + dropped >= opts.requests) return stop();
    timer = setTimeout(tick, schedule.nextDelay(performance.now()));
  };

  function stop(): void {
    if (stopping) return;
    stopping = true;
    if (timer) clearTimeout(timer);
    if (inFlight === 0) finish();
    // In-flight requests get their timeout to finish, not more.
    setTimeout(finish, opts.timeoutMs + 500).unref();
  }

  if (signal?.aborted) stop();
  else {
    signal?.addEventListener("abort", stop, { once: true });
    timer = setTimeout(tick, 0);
  }
  await finished;
  clearInterval(reporter);
  await follower.finish(opts.timeoutMs);
  agent.destroy();
  const elapsed = (performance.now() - started) / 1000;
  const summary = { ...total.summary(elapsed), dropped, skipped: schedule.skipped, unfinished: inFlight, streams: { ...follower.stats } };
  out({ t: ts(), level: "info", msg: "loadgen done", target: `${opts.host}:${opts.port}`, ...summary });
  return summary;
}

async function main(): Promise<void> {
  let opts: LoadgenOptions;
  let minSuccess: number | undefined;
  try {
    opts = parseOptions(process.argv.slice(2));
    const i = process.argv.indexOf("--min-success");
    minSuccess = i > 0 ? Number(process.argv[i + 1]) : undefined;
  } catch (err) {
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level: "error", msg: (err as Error).message })}\n`);
    process.exit(2);
  }
  process.stdout.on("error", () => {}); // parent gone: keep quiet
  // A signal ends the run cleanly: no new requests, in-flight ones finish, the totals are printed.
  const ac = new AbortController();
  process.once("SIGTERM", () => ac.abort());
  process.once("SIGINT", () => ac.abort());
  const summary = await runLoad(opts, undefined, ac.signal);
  const rate = summary.sent ? summary.ok / summary.sent : 0;
  process.exit(minSuccess !== undefined && rate < minSuccess ? 1 : 0);
}

if (process.argv[1] && /loadgen\.(js|ts)$/.test(process.argv[1])) void main();

/**
 * Open-loop HTTP/1.1 load generator (a small wrk2 stand-in): a fixed request rate spread evenly over keep-alive
 * connections, latency measured from each request's INTENDED send time (coordinated omission corrected, see
 * Dispatcher in stats.ts), µs resolution. Runs in its own process, apart from the servers it measures.
 *
 *   node --import tsx bench/lib/loadgen.ts --port 8080 [--host name] [--path /] [--rate 1000] [--connections 16]
 *                              [--requests 10000] [--warmup 1000] [--timeout-s 60]
 * Prints one JSON line: { requests, errors, non2xx, achievedRps, latencyUs: {p50,p90,p99,p999,max,mean},
 *                         serviceUs: {...}, lateUs: {...}, maxQueue }.
 * `serviceUs` is measured from the actual write (what a closed-loop tool would report); `lateUs` is how late the
 * generator itself sent (its own scheduling jitter, included in latencyUs for every path alike).
 *
 * Timing: a worker thread sleeps precisely (Atomics.wait, sub-ms) until each intended send time and wakes the main
 * thread, which sends every due request. No busy spinning: the generator stays a small share of one core.
 */
import net from "node:net";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import type { LoadgenResult } from "./results.ts";
import { Dispatcher, dueCount, intendedOffsetMs, latencyUs, summarize } from "./stats.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    path: { type: "string", default: "/" },
    rate: { type: "string", default: "1000" },
    connections: { type: "string", default: "16" },
    requests: { type: "string", default: "10000" },
    warmup: { type: "string", default: "1000" },
    "timeout-s": { type: "string", default: "60" },
  },
});
const PORT = Number(values.port);
const RATE = Number(values.rate);
const CONNS = Number(values.connections);
const MEASURED = Number(values.requests);
const WARMUP = Number(values.warmup);
const TOTAL = MEASURED + WARMUP;
const REQ = Buffer.from(`GET ${values.path} HTTP/1.1\r\nHost: ${values.host}\r\nUser-Agent: trellis-bench\r\n\r\n`);

const lat = new Float64Array(MEASURED);
const svc = new Float64Array(MEASURED);
const late = new Float64Array(MEASURED);
let recorded = 0;
let completed = 0;
let errors = 0;
let non2xx = 0;
let sent = 0;
let start = 0;
/** A request: its index and when it was meant to be sent (ms, performance.now() clock). */
interface Due {
  index: number;
  intended: number;
}
/** A request on the wire. */
interface InFlight extends Due {
  sentAt: number;
}

const dispatcher = new Dispatcher<Due>(CONNS);

/** Minimal keep-alive HTTP/1.1 response reader: status line, Content-Length or chunked body. */
class Conn {
  buf: Buffer = Buffer.alloc(0);
  req: InFlight | null = null;
  sock: net.Socket;
  ready: Promise<void>;

  constructor(readonly id: number) {
    [this.sock, this.ready] = this.open();
  }
  /** A new connection (also after the server closed one), and when it is established. */
  open(): [net.Socket, Promise<void>] {
    const sock = net.connect(PORT, "127.0.0.1");
    const ready = new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", reject);
    });
    sock.setNoDelay(true);
    ready.catch(() => undefined);
    sock.on("error", () => undefined);
    sock.on("data", (d: Buffer) => this.onData(d));
    sock.on("close", () => {
      if (this.req) {
        errors++;
        finish(this, false);
      }
      if (!closing) [this.sock, this.ready] = this.open();
    });
    return [sock, ready];
  }
  send(index: number, intended: number): void {
    const now = performance.now();
    this.req = { index, intended, sentAt: now };
    this.buf = Buffer.alloc(0);
    this.sock.write(REQ);
  }
  onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.req) return;
    const end = responseEnd(this.buf);
    if (end < 0) return;
    const status = Number(this.buf.toString("latin1", 9, 12));
    if (status < 200 || status > 299) non2xx++;
    this.buf = this.buf.subarray(end);
    finish(this, true);
  }
}

/** Index just past a complete response in `b`, or -1. */
function responseEnd(b: Buffer): number {
  const head = b.indexOf("\r\n\r\n");
  if (head < 0) return -1;
  const headers = b.toString("latin1", 0, head).toLowerCase();
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (cl) {
    const end = head + 4 + Number(cl[1]);
    return b.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(headers)) {
    let p = head + 4;
    for (;;) {
      const lineEnd = b.indexOf("\r\n", p);
      if (lineEnd < 0) return -1;
      const size = Number.parseInt(b.toString("latin1", p, lineEnd), 16);
      if (size === 0) {
        const trailerEnd = b.indexOf("\r\n\r\n", lineEnd - 2 >= 0 ? lineEnd : p);
        return trailerEnd < 0 ? -1 : trailerEnd + 4;
      }
      p = lineEnd + 2 + size + 2;
      if (p > b.length) return -1;
    }
  }
  return head + 4; // no body (e.g. 204)
}

function finish(conn: Conn, ok: boolean): void {
  const now = performance.now();
  const r = conn.req;
  conn.req = null;
  if (!r) return;
  completed++;
  if (ok && r.index >= WARMUP) {
    const i = recorded++;
    lat[i] = latencyUs(r.intended, now);
    svc[i] = latencyUs(r.sentAt, now);
    late[i] = latencyUs(r.intended, r.sentAt);
  }
  const next = dispatcher.done(conn.id);
  if (next) conns[next[0]].send(next[1].index, next[1].intended);
  if (completed >= TOTAL) done();
}

function pump() {
  const now = performance.now();
  const due = dueCount(now - start, RATE, TOTAL);
  while (sent < due) {
    const index = sent++;
    const item = { index, intended: start + intendedOffsetMs(index, RATE) };
    const go = dispatcher.due(item);
    if (go) conns[go[0]].send(index, item.intended);
  }
}

let closing = false;
const conns = Array.from({ length: CONNS }, (_, i) => new Conn(i));
await Promise.all(conns.map((c) => c.ready));

start = performance.now() + 20;
const tick = new Worker(
  `const { parentPort, workerData } = require("node:worker_threads");
   const { startAbs, rate, total } = workerData;
   const cell = new Int32Array(new SharedArrayBuffer(4));
   for (let i = 0; i < total; i++) {
     const at = startAbs + (i * 1000) / rate;
     const wait = at - (performance.timeOrigin + performance.now());
     if (wait > 0) Atomics.wait(cell, 0, 0, wait);
     parentPort.postMessage(0);
   }`,
  { eval: true, workerData: { startAbs: performance.timeOrigin + start, rate: RATE, total: TOTAL } },
);
tick.on("message", pump);
const deadline = setTimeout(() => done(true), Number(values["timeout-s"]) * 1000);

let finished = false;
function done(timedOut = false) {
  if (finished) return;
  finished = true;
  closing = true;
  clearTimeout(deadline);
  tick.terminate();
  const elapsedS = (performance.now() - start) / 1000;
  const out: LoadgenResult = {
    requests: recorded,
    sent,
    completed,
    errors,
    non2xx,
    timedOut,
    rate: RATE,
    connections: CONNS,
    achievedRps: Math.round(completed / elapsedS),
    latencyUs: summarize(lat.subarray(0, recorded)),
    serviceUs: summarize(svc.subarray(0, recorded)),
    lateUs: summarize(late.subarray(0, recorded)),
    maxQueue: dispatcher.maxQueue,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  for (const c of conns) c.sock.destroy();
  setImmediate(() => process.exit(timedOut ? 2 : 0));
}

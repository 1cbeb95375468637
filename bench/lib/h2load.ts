/**
 * h2load (nghttp2's HTTP/2 load generator, Debian's nghttp2-client) as the bench's HTTP/2 and gRPC client: a fixed
 * rate (`--rps` per connection) or as fast as it goes, over h2c with prior knowledge. Latency quantiles come from its
 * per-request log (`--log-file`: start µs, status, µs to the end of the response), requests started in the warm-up
 * skipped. h2load times a request from its actual send, not from its intended one: at a fixed rate a stall is not
 * charged to the requests that should have gone out during it (unlike bench/lib/loadgen.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir } from "@trellis/testkit";
import type { H2loadResult } from "./results.ts";
import { summarize } from "./stats.ts";

export interface H2loadRun {
  port: number;
  /** The :authority (the service name through the mesh). */
  authority: string;
  path?: string;
  /** Connections (h2load clients). */
  connections: number;
  /** Concurrent streams per connection. */
  streams: number;
  /** Total requests per second, spread over the connections; omitted: as fast as it goes. */
  rate?: number;
  seconds: number;
  warmupSeconds: number;
  /** A request body (POST) and extra headers: a gRPC call. */
  body?: Buffer;
  headers?: string[];
}

/** A gRPC message frame (uncompressed) carrying `message`: what h2load posts for a unary gRPC call. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export const GRPC_HEADERS = ["content-type: application/grpc", "te: trailers"];

/** Parses h2load's summary text (requests/s, request outcomes, status classes). */
export function parseH2loadSummary(out: string): Pick<H2loadResult, "rps" | "total" | "succeeded" | "failed" | "errored" | "status2xx"> {
  const n = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  return {
    rps: n(/finished in [\d.]+\w*, ([\d.]+) req\/s/),
    total: n(/requests: (\d+) total/),
    succeeded: n(/requests: .* (\d+) succeeded/),
    failed: n(/requests: .* (\d+) failed/),
    errored: n(/requests: .* (\d+) errored/),
    status2xx: n(/status codes: (\d+) 2xx/),
  };
}

/** Latency (µs) of the requests in an h2load log started at or after `fromUs` (µs since epoch), 2xx only. */
export function logLatency(text: string, fromUs: number): { latencyUs: ReturnType<typeof summarize>; non2xx: number } {
  const lat: number[] = [];
  let non2xx = 0;
  for (const line of text.split("\n")) {
    const [start, status, us] = line.split("\t");
    if (us === undefined || Number(start) < fromUs) continue;
    if (Number(status) < 200 || Number(status) > 299) non2xx++;
    else lat.push(Number(us));
  }
  return { latencyUs: summarize(lat), non2xx };
}

export async function h2load(o: H2loadRun): Promise<H2loadResult> {
  const dir = tempDir("h2load");
  const log = join(dir, "requests.log");
  const args = [
    `http://127.0.0.1:${o.port}${o.path ?? "/"}`,
    "-c",
    String(o.connections),
    "-m",
    String(o.streams),
    "-D",
    String(o.seconds),
    "--warm-up-time",
    String(o.warmupSeconds),
    "-H",
    `:authority: ${o.authority}`,
    "--log-file",
    log,
  ];
  if (o.rate !== undefined) args.push("--rps", String(o.rate / o.connections));
  if (o.body) {
    const file = join(dir, "body.bin");
    writeFileSync(file, o.body);
    args.push("-d", file);
  }
  for (const h of o.headers ?? []) args.push("-H", h);
  const startedUs = Date.now() * 1000;
  const out = await run("h2load", args, { timeoutMs: (o.seconds + o.warmupSeconds) * 1000 + 30_000 });
  const { latencyUs, non2xx } = logLatency(readFileSync(log, "utf8"), startedUs + o.warmupSeconds * 1e6);
  return { ...parseH2loadSummary(out), rate: o.rate ?? null, connections: o.connections, streams: o.streams, seconds: o.seconds, latencyUs, non2xx };
}

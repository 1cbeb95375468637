/**
 * The webhook's HTTPS server (the API server calls webhooks over TLS only): POST /mutate takes an AdmissionReview and
 * answers one; GET /healthz for the Deployment's probes. Bad input gets a 4xx with a stable code in JSON, never a crash.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { InjectorConfig } from "./config.ts";
import { injectorErrors, TrellisError } from "./errors.ts";
import type { Log } from "./log.ts";
import { review } from "./review.ts";

/** The API server caps request bodies at 3 MiB; a review carries one object, so that is the ceiling here too. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface InjectorServerOptions {
  key: string | Buffer;
  cert: string | Buffer;
  config: InjectorConfig;
  log: Log;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(injectorErrors.bodyTooLarge(MAX_BODY_BYTES));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: InjectorServerOptions): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/healthz") return sendJson(res, 200, { ok: true });
  if (path !== "/mutate") throw injectorErrors.notFound(path);
  if (req.method !== "POST") throw injectorErrors.method(req.method ?? "?");
  const raw = await readBody(req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    throw injectorErrors.badReview("the body is not JSON");
  }
  const out = review(body, opts.config);
  const { result, request } = out;
  opts.log("info", result.skipped === null ? "pod injected" : "pod left alone", {
    uid: request.uid,
    namespace: request.namespace,
    dryRun: request.dryRun,
    service: result.service,
    reason: result.skipped ?? undefined,
    ops: result.patch.length,
  });
  sendJson(res, 200, out.review);
}

export function createInjectorServer(opts: InjectorServerOptions): https.Server {
  return https.createServer({ key: opts.key, cert: opts.cert, minVersion: "TLSv1.2" }, (req, res) => {
    handle(req, res, opts).catch((err: unknown) => {
      const e = err instanceof TrellisError ? err : new TrellisError("TRELLIS_INJECTOR_INTERNAL", "internal", 500, (err as Error).message);
      opts.log(e.status >= 500 ? "error" : "warn", "request refused", { code: e.code, error: e.message });
      if (!res.headersSent) sendJson(res, e.status, { error: { code: e.code, message: e.message } });
      else res.destroy();
    });
  });
}

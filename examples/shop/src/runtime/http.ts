/**
 * A tiny router and request context for the shop's services (node:http only). Each request runs inside an
 * AsyncLocalStorage context holding the trace headers it arrived with, so the mesh client forwards them on every
 * outbound call without the handlers having to thread them through — what an instrumented app does.
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type http from "node:http";
import { log } from "./log.ts";

/** Headers an instrumented app propagates: W3C trace context and B3 (multi- and single-header). */
export function pickTraceHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name === "traceparent" || name === "tracestate" || name === "b3" || name.startsWith("x-b3-")) {
      out[name] = Array.isArray(value) ? value.join(",") : value;
    }
  }
  return out;
}

export interface RequestContext {
  trace: Record<string, string>;
}
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** An error a handler throws to produce a given status and JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Ctx {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface Reply {
  status?: number;
  json?: unknown;
  html?: string;
  headers?: Record<string, string>;
}

type Handler = (ctx: Ctx) => Promise<Reply> | Reply;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

const MAX_BODY = 64 * 1024;

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split("/").filter(Boolean), handler });
    return this;
  }
  get(pattern: string, handler: Handler): this {
    return this.add("GET", pattern, handler);
  }
  post(pattern: string, handler: Handler): this {
    return this.add("POST", pattern, handler);
  }
  delete(pattern: string, handler: Handler): this {
    return this.add("DELETE", pattern, handler);
  }

  /** Finds the route for a method and path; `allowed` lists methods when only the path matched. */
  match(method: string, path: string): { route?: Route; params: Record<string, string>; allowed: string[] } {
    const segs = path.split("/").filter(Boolean).map(safeDecode);
    const allowed: string[] = [];
    for (const route of this.routes) {
      if (route.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = route.parts[i];
        if (p.startsWith(":")) params[p.slice(1)] = segs[i];
        else if (p !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) return { route, params, allowed };
      allowed.push(route.method);
    }
    return { params: {}, allowed };
  }

  listener(): http.RequestListener {
    return (req, res) => {
      requestContext.run({ trace: pickTraceHeaders(req.headers) }, () => {
        this.dispatch(req, res).catch((err) => {
          log("error", "handler crashed", { error: String(err) });
          if (!res.headersSent) send(res, { status: 500, json: { error: "internal error" } });
          else res.destroy();
        });
      });
    };
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Absolute-form targets are tolerated (a proxy may pass them through); only the path matters here.
    const url = new URL(req.url ?? "/", "http://local");
    const { route, params, allowed } = this.match(req.method ?? "GET", url.pathname);
    if (!route) {
      req.resume();
      if (allowed.length) return send(res, { status: 405, json: { error: "method not allowed" }, headers: { allow: allowed.join(", ") } });
      return send(res, { status: 404, json: { error: "not found", path: url.pathname } });
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      const e = err as HttpError;
      return send(res, { status: e.status ?? 400, json: { error: e.message } });
    }
    try {
      const reply = await route.handler({
        method: req.method ?? "GET",
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      send(res, reply);
    } catch (err) {
      if (err instanceof HttpError) return send(res, { status: err.status, json: { error: err.message, ...err.details } });
      const mapped = (err as { toReply?: () => Reply }).toReply?.();
      if (mapped) return send(res, mapped);
      throw err;
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  if (req.method === "GET" || req.method === "HEAD") {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
}

export function send(res: http.ServerResponse, reply: Reply): void {
  const status = reply.status ?? 200;
  let payload: string;
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.html !== undefined) {
    payload = reply.html;
    headers["content-type"] ??= "text/html; charset=utf-8";
  } else {
    payload = reply.json === undefined ? "" : JSON.stringify(reply.json);
    if (payload) headers["content-type"] ??= "application/json";
  }
  headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(status, headers);
  res.end(payload);
}

/** Query-string helpers. */
export function intParam(value: string | null | undefined, fallback: number, min: number, max: number): number {
  const n = value == null || value === "" ? NaN : Number(value);
  if (!Number.isInteger(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

export function obj(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "body must be a JSON object");
  return body as Record<string, unknown>;
}

/**
 * `GET /metrics`: the console's own metrics in Prometheus text format. Who may scrape: any client on loopback (a
 * Prometheus or agent on the console's host, a port-forward), and anyone else with an API token (`Authorization:
 * Bearer`, any role: viewer is enough). No session cookie is needed nor accepted in its place: scrapers have none.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isLoopbackHost } from "@trellis/protocol";
import type { SessionUser } from "../repositories/index.ts";
import { bearerOf } from "../security/api-tokens.ts";

export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

export interface MetricsAccess {
  /** API tokens: the caller a bearer value stands for (null: unknown, revoked, expired). */
  tokens?: { userFor(value: string): Promise<SessionUser | null> };
}

/** The socket's peer is this host (IPv4-mapped IPv6 included). */
export function fromLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? "";
  return isLoopbackHost(address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address);
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "www-authenticate": 'Bearer realm="trellis"', "cache-control": "no-store" });
  res.end(`${message}\n`);
}

export async function serveMetrics(req: IncomingMessage, res: ServerResponse, source: MetricsSource, access: MetricsAccess): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" });
    res.end();
    return;
  }
  if (!fromLoopback(req)) {
    const bearer = bearerOf(req);
    if (bearer === undefined) return refuse(res, 401, "metrics: scrape from loopback or with an API token (Authorization: Bearer)");
    const user = access.tokens ? await access.tokens.userFor(bearer) : null;
    if (!user) return refuse(res, 401, "metrics: unknown, revoked or expired API token");
  }
  const body = await source.render();
  res.writeHead(200, { "content-type": source.contentType, "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? undefined : body);
}

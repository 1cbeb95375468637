/** Admin listener: `/metrics`, `/healthz`, `/ready`, `/config`. */
import { createServer, type Server } from "node:http";
import type { ConfigState } from "../config/state.ts";
import type { EdgeRegistry } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";
import type { EndpointRegistry } from "../upstream/endpoints.ts";
import { type ControlStatus, METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";

export interface AdminDeps {
  config: ConfigState;
  edges: EdgeRegistry;
  proxyErrors: ProxyErrorCounter;
  endpoints: EndpointRegistry;
  controlConnected: () => boolean;
  /** Which console the control link talks to (null: no console configured). */
  control?: () => ControlStatus | null;
  startTimeSeconds: number;
  security?: () => import("./metrics.ts").ProcessInfo["security"];
  http2Connections?: () => import("./metrics.ts").ProcessInfo["http2Connections"];
  /** `/identity`: the certificate this agent holds (public parts only). */
  identity?: () => unknown;
  /**
   * Why the agent cannot take part in mTLS yet (the applied snapshot asks for it and no valid certificate is held),
   * or null: /ready stays 503 until then, so an orchestrator does not start the app before its agent can call.
   */
  identityPending?: () => string | null;
}

function send(res: import("node:http").ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

export function createAdminListener(deps: AdminDeps): Server {
  return createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    const q = req.url?.indexOf("?") ?? -1;
    const path = q >= 0 ? req.url!.slice(0, q) : req.url;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "text/plain", "method not allowed\n");
      return;
    }
    switch (path) {
      case "/metrics":
        send(
          res,
          200,
          METRICS_CONTENT_TYPE,
          renderMetrics(deps.edges, deps.proxyErrors, {
            configVersion: deps.config.version,
            controlConnected: deps.controlConnected(),
            control: deps.control?.(),
            ready: deps.config.ready,
            endpoints: deps.endpoints.size(),
            startTimeSeconds: deps.startTimeSeconds,
            security: deps.security?.(),
            http2Connections: deps.http2Connections?.(),
          }),
        );
        return;
      case "/identity":
        send(res, 200, "application/json", JSON.stringify(deps.identity?.() ?? null));
        return;
      case "/healthz":
        send(res, 200, "text/plain", "ok\n");
        return;
      case "/ready":
        {
          const pending = deps.config.ready ? (deps.identityPending?.() ?? null) : "no config snapshot applied";
          if (pending === null) send(res, 200, "text/plain", `ready (config version ${deps.config.version})\n`);
          else send(res, 503, "text/plain", `not ready: ${pending}\n`);
        }
        return;
      case "/config":
        send(
          res,
          200,
          "application/json",
          JSON.stringify({
            version: deps.config.version,
            appliedAt: deps.config.appliedAt,
            console: deps.control?.() ?? null,
            snapshot: deps.config.snapshot,
          }),
        );
        return;
      default:
        send(res, 404, "text/plain", "not found\n");
    }
  });
}

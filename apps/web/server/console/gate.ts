/**
 * The request gate of the console's http.Server: who may reach what, and where it goes.
 *
 *   /healthz        liveness JSON (no session)
 *   /metrics        the console's Prometheus metrics: from loopback, or with an API token (metrics/endpoint.ts)
 *   /api/auth/*     sign-in / sign-out (Auth)
 *   /api/trpc/*     tRPC: a session is required (401 JSON otherwise); anything but GET/HEAD must come from the
 *                   console's own origin with the CSRF header (403 JSON otherwise). Or an API token
 *                   (`Authorization: Bearer`): no cookie is involved, so no CSRF check; unknown, revoked or expired → 401
 *   public paths    the sign-in page and what it needs: served without a session
 *   everything else Next.js, signed in (a browser without a session is sent to /signin?next=…)
 *   upgrades        /ws/agents → the control plane; /ws/live → the live graph, signed in and same-origin only.
 *                   Other upgrades (Next's HMR in dev) are left alone: Next attaches its own listener.
 *
 * Until the console is ready (`startingGate`), and from the moment it shuts down, everything but /healthz is a 503.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.ts";
import { type MetricsSource, serveMetrics } from "../metrics/endpoint.ts";
import type { SessionUser } from "../repositories/index.ts";
import { bearerOf } from "../security/api-tokens.ts";
import { CSRF_HEADER, sameOrigin } from "../security/auth.ts";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface Gate {
  request: RequestHandler;
  upgrade: UpgradeHandler;
}

export interface GateRoutes {
  auth: {
    handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
    userFromRequest(req: IncomingMessage): Promise<SessionUser | null>;
  };
  /** API tokens: the caller a bearer value stands for (null: unknown, revoked, expired). Without it bearers get 401. */
  tokens?: { userFor(value: string): Promise<SessionUser | null> };
  /** tRPC; the signed-in user is on the request (see `userOf`). */
  trpc: RequestHandler;
  next: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  agents: { handleUpgrade: UpgradeHandler };
  live: { handleUpgrade: UpgradeHandler };
  /** The console's own metrics for /metrics (absent: 404 there, as any unknown path would be to Next). */
  metrics?: MetricsSource;
  /** What /healthz reports besides `ok`. */
  health: () => { agents: number; configVersion: number };
  /** True once the console is shutting down. */
  stopping: () => boolean;
  log: Logger;
}

type GatedRequest = IncomingMessage & { trellisUser?: SessionUser };

/** The signed-in user the gate attached to a tRPC request. */
export function userOf(req: IncomingMessage): SessionUser | null {
  return (req as GatedRequest).trellisUser ?? null;
}

/** Paths served without a session: the sign-in page and what it needs, the auth endpoints, liveness. */
export function isPublicPath(path: string): boolean {
  return (
    path === "/signin" ||
    path.startsWith("/_next/static/") ||
    path === "/icon.svg" ||
    path === "/favicon.ico" ||
    path.startsWith("/api/auth/") ||
    path === "/healthz"
  );
}

const UNAUTHORIZED_BODY = JSON.stringify({
  error: { message: "sign in required", code: -32001, data: { code: "UNAUTHORIZED", httpStatus: 401 } },
});

const CROSS_SITE_BODY = JSON.stringify({
  error: {
    message: `cross-site request refused (send the ${CSRF_HEADER} header from the console's origin)`,
    code: -32003,
    data: { code: "FORBIDDEN", httpStatus: 403 },
  },
});

function health(res: ServerResponse, ok: boolean, h: { agents: number; configVersion: number }): void {
  res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
  res.end(JSON.stringify({ ok, agents: h.agents, configVersion: h.configVersion }));
}

function unavailable(res: ServerResponse, stopping: boolean): void {
  res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" });
  res.end(stopping ? "console shutting down\n" : "console starting\n");
}

function isOurUpgrade(path: string): boolean {
  return path === "/ws/agents" || path === "/ws/live";
}

function refuseUpgrade(socket: Duplex): void {
  socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n");
}

/** Before the console is ready: /healthz says so, everything else (our upgrades too) is a 503. */
export function startingGate(): Gate {
  return {
    request(req, res) {
      if (req.url === "/healthz") health(res, false, { agents: 0, configVersion: 0 });
      else unavailable(res, false);
    },
    upgrade(req, socket) {
      if (isOurUpgrade((req.url ?? "").split("?")[0])) refuseUpgrade(socket);
    },
  };
}

export function createGate(routes: GateRoutes): Gate {
  const { log } = routes;
  const failed = (res: ServerResponse, what: string, fields: Record<string, unknown>) => (err: unknown) => {
    log.error(what, { ...fields, error: err as Error });
    if (!res.headersSent) res.writeHead(500);
    res.end();
  };

  function serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    path: string,
    isTrpc: boolean,
    user: SessionUser | null,
    bearer = false,
  ): void {
    if (isTrpc) {
      if (!user) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(UNAUTHORIZED_BODY);
        return;
      }
      // CSRF: anything but a read must be same-origin and carry the custom header (not for bearers: no cookie to abuse).
      if (!bearer && req.method !== "GET" && req.method !== "HEAD" && (!sameOrigin(req) || !req.headers[CSRF_HEADER])) {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(CROSS_SITE_BODY);
        return;
      }
      (req as GatedRequest).trellisUser = user;
      routes.trpc(req, res);
      return;
    }
    if (!user && !isPublicPath(path)) {
      res.writeHead(307, { location: `/signin?next=${encodeURIComponent(url)}`, "cache-control": "no-store" });
      res.end();
      return;
    }
    routes.next(req, res).catch(failed(res, "next request failed", { url }));
  }

  return {
    request(req, res) {
      const url = req.url ?? "/";
      const path = url.split("?")[0];
      if (url === "/healthz") return health(res, true, routes.health());
      if (routes.stopping()) return unavailable(res, true);
      if (path === "/metrics" && routes.metrics) {
        serveMetrics(req, res, routes.metrics, { tokens: routes.tokens }).catch(failed(res, "metrics request failed", {}));
        return;
      }
      if (path.startsWith("/api/auth/")) {
        routes.auth.handle(req, res, path).catch(failed(res, "auth request failed", { path }));
        return;
      }
      const isTrpc = path === "/api/trpc" || path.startsWith("/api/trpc/");
      if (isPublicPath(path) && !isTrpc) return serve(req, res, url, path, false, null);
      const bearer = isTrpc ? bearerOf(req) : undefined;
      if (bearer !== undefined) {
        const tokens = routes.tokens;
        if (!tokens) return serve(req, res, url, path, true, null, true);
        tokens.userFor(bearer).then((user) => serve(req, res, url, path, true, user, true), failed(res, "token lookup failed", {}));
        return;
      }
      routes.auth.userFromRequest(req).then((user) => serve(req, res, url, path, isTrpc, user), failed(res, "session lookup failed", {}));
    },

    upgrade(req, socket, head) {
      const path = (req.url ?? "").split("?")[0];
      if (!isOurUpgrade(path)) return; // Next's (HMR in dev): it attaches its own upgrade listener.
      if (routes.stopping()) return refuseUpgrade(socket);
      if (path === "/ws/agents") return routes.agents.handleUpgrade(req, socket, head);
      // Browsers only, signed in, from the console's own origin (no cross-site websocket hijacking).
      const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      if (!sameOrigin(req)) return refuse("403 Forbidden");
      routes.auth.userFromRequest(req).then(
        (user) => (user ? routes.live.handleUpgrade(req, socket, head) : refuse("401 Unauthorized")),
        () => refuse("500 Internal Server Error"),
      );
    },
  };
}

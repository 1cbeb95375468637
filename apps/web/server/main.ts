/**
 * The Trellis console: one Node process, one http.Server.
 *   /api/trpc/*   tRPC (Node HTTP adapter, served here so the hubs and the Prisma client exist once)
 *   /ws/agents    agent control protocol (AgentHub)          — websocket upgrades
 *   /ws/live      live graph frames for browsers (LiveHub)    — websocket upgrades
 *   /healthz      liveness JSON
 *   everything else: Next.js (production build by default; NODE_ENV=development for dev mode). Other websocket
 *   upgrades (Next's HMR) are left to Next.
 * Prints {"msg":"console listening","url":…} once migrations are applied and Next is prepared.
 */

import { mkdirSync } from "node:fs";
import http from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { AgentHub } from "./agent-hub.ts";
import { hasProductionBuild, loadConfig, WEB_DIR } from "./config.ts";
import { closeDb, openDb } from "./db.ts";
import { loadJoinToken } from "./join-token.ts";
import { LiveHub } from "./live-hub.ts";
import { LiveView } from "./live-view.ts";
import { captureConsole, log } from "./log.ts";
import { applyMigrations } from "./migrate.ts";
import type { SessionUser } from "./repositories/index.ts";
import { createRepositories } from "./repositories/index.ts";
import { appRouter } from "./root.ts";
import { Auth, CSRF_HEADER, sameOrigin } from "./security/auth.ts";
import { CertificateAuthority } from "./security/ca.ts";
import { DenialStore } from "./security/denials.ts";
import { TelemetryStore } from "./telemetry-store.ts";

/** Paths served without a session: the sign-in page and what it needs, the auth endpoints, liveness. */
function isPublicPath(path: string): boolean {
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

import { hubPublisher } from "./changes/hub-publisher.ts";
import { ConfigChanges } from "./changes/index.ts";
import { type Observability, startObservability } from "./observability/index.ts";

const SHUTDOWN_BUDGET_MS = 2_000;

async function main(): Promise<void> {
  const started = Date.now();
  captureConsole();
  const cfg = loadConfig();
  // Decide the mode before Next (and React) are loaded: they read NODE_ENV at import time.
  (process.env as Record<string, string>).NODE_ENV = cfg.dev ? "development" : "production";
  process.env.NEXT_TELEMETRY_DISABLED ??= "1";
  process.env.CHECKPOINT_DISABLE ??= "1";
  if (!cfg.dev && !hasProductionBuild()) {
    log.error("no production build of the console", { fix: "npm run build -w @trellis/web (or NODE_ENV=development)" });
    process.exit(1);
  }
  mkdirSync(cfg.dataDir, { recursive: true });
  const token = loadJoinToken(cfg.dataDir, cfg.joinTokenEnv);
  log.info("console starting", {
    mode: cfg.dev ? "development" : "production",
    dataDir: cfg.dataDir,
    database: cfg.databaseUrl.startsWith("file:") ? "sqlite" : "other",
    joinToken: token.source === "env" ? "from TRELLIS_JOIN_TOKEN" : `${token.source} (${token.file})`,
  });

  let ready = false;
  let shuttingDown = false;
  let hub: AgentHub | null = null;
  let liveHub: LiveHub | null = null;
  let obs: Observability | null = null;
  let trpcHandler: http.RequestListener | null = null;
  let nextHandler: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null = null;
  let nextApp: { close(): Promise<void> } | null = null;
  let auth: Auth | null = null;

  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    const path = url.split("?")[0];
    if (url === "/healthz") {
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: ready, agents: hub?.connectedCount ?? 0, configVersion: hub?.currentVersion ?? 0 }));
      return;
    }
    if (!ready || shuttingDown) {
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" });
      res.end(shuttingDown ? "console shutting down\n" : "console starting\n");
      return;
    }
    if (path.startsWith("/api/auth/")) {
      auth!.handle(req, res, path).catch((err: unknown) => {
        log.error("auth request failed", { path, error: err as Error });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    const isTrpc = path === "/api/trpc" || path.startsWith("/api/trpc/");
    const serve = (user: SessionUser | null) => {
      if (isTrpc) {
        if (!user) {
          res.writeHead(401, { "content-type": "application/json" });
          res.end(UNAUTHORIZED_BODY);
          return;
        }
        // CSRF: anything but a read must be same-origin and carry the custom header.
        if (req.method !== "GET" && req.method !== "HEAD" && (!sameOrigin(req) || !req.headers[CSRF_HEADER])) {
          res.writeHead(403, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              error: {
                message: `cross-site request refused (send the ${CSRF_HEADER} header from the console's origin)`,
                code: -32003,
                data: { code: "FORBIDDEN", httpStatus: 403 },
              },
            }),
          );
          return;
        }
        (req as http.IncomingMessage & { trellisUser?: SessionUser }).trellisUser = user;
        trpcHandler!(req, res);
        return;
      }
      if (!user && !isPublicPath(path)) {
        res.writeHead(307, { location: `/signin?next=${encodeURIComponent(url)}`, "cache-control": "no-store" });
        res.end();
        return;
      }
      nextHandler!(req, res).catch((err: unknown) => {
        log.error("next request failed", { url, error: err as Error });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    };
    if (isPublicPath(path) && !isTrpc) return serve(null);
    auth!.userFromRequest(req).then(serve, (err: unknown) => {
      log.error("session lookup failed", { error: err as Error });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 5_000;

  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/ws/agents" || path === "/ws/live") {
      if (!ready || shuttingDown || !hub || !liveHub) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n");
        return;
      }
      if (path === "/ws/agents") hub.handleUpgrade(req, socket, head);
      else {
        // Browsers only, signed in, from the console's own origin (no cross-site websocket hijacking).
        const live = liveHub;
        const refuse = (status: string) => socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
        if (!sameOrigin(req)) return void refuse("403 Forbidden");
        auth!.userFromRequest(req).then(
          (user) => (user ? live.handleUpgrade(req, socket, head) : refuse("401 Unauthorized")),
          () => refuse("500 Internal Server Error"),
        );
      }
    }
    // Anything else (Next's HMR in dev) is Next's: it attaches its own upgrade listener.
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : cfg.port;
  const url = `http://${cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host}:${port}`;

  const backend = (async () => {
    await applyMigrations({ dataDir: cfg.dataDir, databaseUrl: cfg.databaseUrl, log });
    const db = await openDb(cfg.databaseUrl);
    const repos = createRepositories(db);
    const pruned = await repos.instances.pruneDisconnected(7 * 24 * 3600 * 1000, new Date());
    if (pruned > 0) log.info("forgot long-gone instances", { count: pruned });
    auth = new Auth(repos);
    const admin = await auth.ensureFirstAdmin(cfg.adminPassword);
    if (admin.created) {
      log.info("first admin created", {
        username: "admin",
        password: admin.generated ? "generated (printed once, not logged)" : "from TRELLIS_ADMIN_PASSWORD",
      });
      // Printed once, on stdout, outside the JSON log (scripts/start.mjs shows it to whoever ran npm start).
      if (admin.generated) process.stdout.write(`TRELLIS FIRST ADMIN: username admin password ${admin.generated}\n`);
    }
    await repos.users.pruneSessions(new Date());
    const { ca, created } = await CertificateAuthority.open(cfg.dataDir, cfg.trustDomain, cfg.certTtlSeconds);
    log.info(created ? "certificate authority created" : "certificate authority loaded", {
      dir: `${cfg.dataDir}/ca`,
      trustDomain: cfg.trustDomain,
      certTtlSeconds: cfg.certTtlSeconds,
    });
    const denials = new DenialStore();
    const store = new TelemetryStore();
    const live = new LiveView(store);
    live.setRegistry(await repos.services.summaries());
    obs = await startObservability(repos, store, log);
    hub = new AgentHub({
      repos,
      store,
      spans: obs.spans,
      joinToken: token.token,
      ca,
      denials,
      log: log.child({ component: "agent-hub" }),
      onRegistryChange: (services) => live.setRegistry(services),
    });
    const changes = new ConfigChanges(repos, hubPublisher(hub, repos), log.child({ component: "changes" }));
    if (cfg.seedFile) {
      // First start only: initial policies (e.g. the demo's payments canary), before the first push round.
      const seeded = await changes.seedIfEmpty(cfg.seedFile);
      if (seeded > 0) log.info("seeded traffic policies", { file: cfg.seedFile, services: seeded });
    }
    hub.setTelemetryPolicy(await repos.telemetryPolicy.get());
    await hub.start();
    liveHub = new LiveHub(() => live.graph(), log.child({ component: "live-hub" }));
    liveHub.start();
    const services = { repos, live, hub, auth, denials, trustDomain: cfg.trustDomain, changes, obs };
    trpcHandler = createHTTPHandler({
      router: appRouter,
      basePath: "/api/trpc/",
      createContext: ({ req }) => ({ ...services, user: (req as { trellisUser?: SessionUser }).trellisUser ?? null }),
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") log.error("trpc error", { path, error });
      },
    });
  })();

  const frontend = (async () => {
    const { default: next } = await import("next");
    const app = next({ dev: cfg.dev, dir: WEB_DIR, hostname: cfg.host, port, httpServer: server, quiet: !cfg.dev });
    await app.prepare();
    nextHandler = app.getRequestHandler();
    nextApp = app;
  })();

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info("console stopping", { signal });
    const force = setTimeout(() => {
      log.warn("shutdown budget exceeded; exiting");
      process.exit(1);
    }, SHUTDOWN_BUDGET_MS);
    force.unref();
    try {
      await Promise.all([hub?.close(), liveHub?.close()]);
      await Promise.race([obs?.close(), new Promise((r) => setTimeout(r, 500).unref())]);
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 300).unref();
      });
      await Promise.race([nextApp?.close(), new Promise((r) => setTimeout(r, 300).unref())]);
      await closeDb();
      log.info("console stopped");
      process.exit(0);
    } catch (err) {
      log.error("shutdown failed", { error: err as Error });
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  await Promise.all([backend, frontend]);
  ready = true;
  log.info("console listening", { url, ms: Date.now() - started });
}

process.on("unhandledRejection", (err) => log.error("unhandled rejection", { error: err as Error }));

main().catch((err: unknown) => {
  log.error("console failed to start", { error: err as Error, stack: (err as Error)?.stack });
  process.exit(1);
});

/**
 * The Trellis console: one Node process, one http.Server, wired once.
 *
 * The server listens at once (a 503 "console starting" to all but /healthz, see gate.ts) while the backend (database,
 * services, control plane) and Next.js are prepared side by side; then the gate over both takes the requests.
 * `close()` stops in order within the caller's budget: agent and browser sockets, observability (bounded), the HTTP
 * server (idle connections at once, the rest after 300 ms), Next (bounded), the database.
 */
import { mkdirSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { ConsoleConfig } from "../config.ts";
import { isPostgresUrl } from "../database-url.ts";
import { closeDb } from "../db.ts";
import { loadJoinToken } from "../join-token.ts";
import type { Logger } from "../log.ts";
import { ApiTokenAuth } from "../security/api-tokens.ts";
import { buildBackend } from "./backend.ts";
import { prepareNext } from "./frontend.ts";
import { createGate, type Gate, startingGate } from "./gate.ts";
import { loadConsoleTls } from "./tls.ts";

export interface Console {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

function within(ms: number, work: Promise<unknown>): Promise<unknown> {
  return Promise.race([work, new Promise((r) => setTimeout(r, ms).unref())]);
}

/** Listens; resolves with the port bound (PORT=0 picks one) and the console's URL. */
function listen(server: http.Server, port: number, host: string, scheme: "http" | "https"): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : port;
      resolve({ port: bound, url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${bound}` });
    });
  });
}

export async function buildConsole(cfg: ConsoleConfig, log: Logger): Promise<Console> {
  mkdirSync(cfg.dataDir, { recursive: true });
  const token = loadJoinToken(cfg.dataDir, cfg.joinTokenEnv);
  log.info("console starting", {
    mode: cfg.dev ? "development" : "production",
    dataDir: cfg.dataDir,
    database: isPostgresUrl(cfg.databaseUrl) ? "postgresql" : "sqlite",
    joinToken: token.source === "env" ? "from TRELLIS_JOIN_TOKEN" : `${token.source} (${token.file})`,
  });

  // Beyond loopback (or when asked) https + wss: no join token, password or session cookie crosses the network in clear.
  const tls = await loadConsoleTls(cfg);
  if (tls)
    log.info("console TLS", {
      certificate: tls.source,
      names: tls.names,
      agentsTrust: tls.caFile ? `--console-ca ${tls.caFile} (or --console-ca-hash ${tls.caPin})` : "the operator's CA",
    });
  let gate: Gate = startingGate();
  const onRequest: http.RequestListener = (req, res) => gate.request(req, res);
  const server: http.Server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, onRequest) : http.createServer(onRequest);
  server.keepAliveTimeout = 5_000;
  server.on("upgrade", (req, socket, head) => gate.upgrade(req, socket, head));
  const { port, url } = await listen(server, cfg.port, cfg.host, tls ? "https" : "http");

  const [backend, frontend] = await Promise.all([
    buildBackend(cfg, token.token, log, url),
    prepareNext({ dev: cfg.dev, host: cfg.host, port, server }),
  ]);
  let stopping = false;
  const { controlPlane } = backend;
  gate = createGate({
    auth: backend.services.auth,
    tokens: new ApiTokenAuth(backend.services.repos),
    trpc: backend.trpc,
    next: frontend.handle,
    agents: controlPlane,
    live: backend.liveHub,
    metrics: backend.metrics,
    health: () => ({ agents: controlPlane.connectedCount, configVersion: controlPlane.currentVersion }),
    stopping: () => stopping,
    log,
  });

  return {
    url,
    server,
    async close() {
      stopping = true;
      await backend.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 300).unref();
      });
      await within(300, frontend.close());
      await closeDb();
    },
  };
}

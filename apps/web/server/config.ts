/** Console process configuration from the environment (docs/processes.md). */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = path.resolve(WEB_DIR, "../..");

export interface ConsoleConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  /** From TRELLIS_JOIN_TOKEN; when absent the token is read from / generated into `<dataDir>/join-token`. */
  joinTokenEnv: string | undefined;
  /** TRELLIS_SEED_FILE: initial traffic policies applied at first start (when no policy or revision exists). */
  seedFile: string | undefined;
  /** Next.js dev mode (HMR, on-demand compilation) vs the production build in `.next`. */
  dev: boolean;
  /** SPIFFE trust domain of the mesh (TRELLIS_TRUST_DOMAIN, default trellis.local). */
  trustDomain: string;
  /** Lifetime of agent certificates (TRELLIS_CERT_TTL_SECONDS, default 24 h). */
  certTtlSeconds: number;
  /** Password for the first admin (TRELLIS_ADMIN_PASSWORD); generated and printed once when absent. */
  adminPassword: string | undefined;
  /**
   * TRELLIS_DISCOVERY: `agents` (default) serves every connected agent as an endpoint; `kubernetes` only those whose pod
   * is a ready EndpointSlice endpoint (TRELLIS_DISCOVERY_NAMESPACE: watch one namespace, default all).
   */
  discovery: { mode: "agents" } | { mode: "kubernetes"; namespace: string | undefined };
  /** TRELLIS_TLS=1: https/wss on loopback too (beyond loopback the console always serves TLS: console/tls.ts). */
  tls: boolean;
  /** TRELLIS_TLS_CERT / TRELLIS_TLS_KEY: an operator-provided certificate (PEM files) instead of one from the mesh CA. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** TRELLIS_TLS_HOSTS: more DNS names / IP addresses for the console's own certificate (comma-separated). */
  tlsHosts: string[];
  /**
   * This console among the replicas sharing one database (TRELLIS_REPLICA_ID; default `<hostname>-<pid>`, unique on a
   * host and, on Kubernetes, per pod): the `replica` label of its /metrics.
   */
  replicaId: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const portRaw = env.PORT ?? "3000";
  const port = Number(portRaw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0..65535 (got ${portRaw})`);
  const dataDir = path.resolve(env.TRELLIS_DATA_DIR || path.join(REPO_ROOT, "data"));
  const databaseUrl = env.DATABASE_URL || `file:${path.join(dataDir, "trellis.db")}`;
  return {
    port,
    host: env.HOST || "127.0.0.1",
    dataDir,
    databaseUrl,
    joinTokenEnv: env.TRELLIS_JOIN_TOKEN || undefined,
    seedFile: env.TRELLIS_SEED_FILE ? path.resolve(REPO_ROOT, env.TRELLIS_SEED_FILE) : undefined,
    dev: decideDevMode(env.NODE_ENV),
    trustDomain: env.TRELLIS_TRUST_DOMAIN || "trellis.local",
    certTtlSeconds: certTtl(env.TRELLIS_CERT_TTL_SECONDS),
    adminPassword: env.TRELLIS_ADMIN_PASSWORD || undefined,
    discovery: discoveryOf(env),
    tls: ["1", "true", "on"].includes((env.TRELLIS_TLS ?? "").toLowerCase()),
    tlsCertFile: env.TRELLIS_TLS_CERT ? path.resolve(env.TRELLIS_TLS_CERT) : undefined,
    tlsKeyFile: env.TRELLIS_TLS_KEY ? path.resolve(env.TRELLIS_TLS_KEY) : undefined,
    tlsHosts: (env.TRELLIS_TLS_HOSTS ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean),
    // A restarted process is a new replica (its leases and agents are not the old one's), even in a container where pid is 1.
    replicaId: env.TRELLIS_REPLICA_ID || `${os.hostname()}-${randomUUID().slice(0, 8)}`,
  };
}

function discoveryOf(env: NodeJS.ProcessEnv): ConsoleConfig["discovery"] {
  const mode = env.TRELLIS_DISCOVERY || "agents";
  if (mode === "agents") return { mode };
  if (mode === "kubernetes") return { mode, namespace: env.TRELLIS_DISCOVERY_NAMESPACE || undefined };
  throw new Error(`TRELLIS_DISCOVERY must be agents or kubernetes (got ${mode})`);
}

/**
 * Production unless asked for development: NODE_ENV=development runs Next in dev mode (the `dev` script); otherwise the
 * console serves the production build (`npm start` builds first). Without a build and without NODE_ENV=production it
 * falls back to dev mode so a fresh checkout still starts.
 */
export function decideDevMode(nodeEnv: string | undefined): boolean {
  if (nodeEnv === "development") return true;
  if (nodeEnv === "production") return false;
  return !hasProductionBuild();
}

export function hasProductionBuild(): boolean {
  return existsSync(path.join(WEB_DIR, ".next", "BUILD_ID"));
}

function certTtl(raw: string | undefined): number {
  if (!raw) return 24 * 3600;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 3 || n > 366 * 24 * 3600) throw new Error(`TRELLIS_CERT_TTL_SECONDS must be 3..31622400 (got ${raw})`);
  return n;
}

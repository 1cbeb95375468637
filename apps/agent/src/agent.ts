/**
 * Wires one agent: config state (+ persisted snapshot), the three listeners, the control link and the telemetry
 * reporter. `startAgent` resolves once every listener is bound.
 */

import { rename, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type HelloFrame, INGRESS_SOURCE, PROTOCOL_VERSION, UNKNOWN_VERSION } from "@trellis/protocol";
import { createAdminListener } from "./admin/listener.ts";
import type { AgentOptions } from "./args.ts";
import { createCaptureFront } from "./capture/front.ts";
import { persistSnapshot, readPersistedSnapshot } from "./config/persist.ts";
import { ConfigState } from "./config/state.ts";
import { ControlLink } from "./control/link.ts";
import { createSnapshotHandler } from "./control/snapshots.ts";
import { createInboundListener } from "./inbound/listener.ts";
import { inboundStack } from "./inbound/stack.ts";
import { type Logger, RateLimitedLog } from "./log.ts";
import { createOutboundListener } from "./outbound/listener.ts";
import { outboundStack } from "./outbound/stack.ts";
import type { HttpFront } from "./proxy/front.ts";
import { closeAllTunnels } from "./proxy/tunnel.ts";
import { Identity } from "./security/identity.ts";
import { InboundFront } from "./security/inbound-front.ts";
import { TrustSync } from "./security/trust-sync.ts";
import { DenialCounter } from "./telemetry/denials.ts";
import { EdgeRegistry } from "./telemetry/edges.ts";
import { ProxyErrorCounter } from "./telemetry/proxy-errors.ts";
import { TelemetryReporter } from "./telemetry/reporter.ts";
import { Tracer } from "./telemetry/tracing.ts";
import { createH2Client, createPool, DEFAULT_POOL_OPTIONS, EndpointRegistry } from "./upstream/endpoints.ts";
import { AGENT_VERSION } from "./version.ts";

export interface Ports {
  inbound: number;
  outbound: number;
  admin: number;
  app: number;
}

export interface RunningAgent {
  ports: Ports;
  config: ConfigState;
  stop(graceMs?: number): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * A listener's front: stop accepting, then close the connections it handed over (idle HTTP/1.1 ones now, GOAWAY to
 * HTTP/2 sessions so their streams finish, the rest after the grace).
 */
function closeFront(front: import("node:net").Server, http: HttpFront, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!front.listening) return resolve();
    const force = setTimeout(() => {
      clearInterval(poll);
      http.destroyAll();
      resolve();
    }, graceMs);
    front.close();
    http.drain();
    const poll = setInterval(() => {
      front.getConnections((_err, n) => {
        if (n === 0) {
          clearInterval(poll);
          clearTimeout(force);
          resolve();
        }
      });
    }, 50);
    poll.unref();
    force.unref();
  });
}

export async function startAgent(opts: AgentOptions, log: Logger): Promise<RunningAgent> {
  const self = { service: opts.service, version: opts.version };
  const edges = new EdgeRegistry();
  let link: ControlLink | null = null;
  const identity = new Identity(join(opts.stateDir, "identity"), opts.service, log, (csr) => link?.send({ type: "csr", csr }) ?? false);
  identity.load();
  const trust = new TrustSync(identity, (frame) => link?.send(frame) ?? false, log);
  const denials = new DenialCounter();
  const endpoints = new EndpointRegistry(DEFAULT_POOL_OPTIONS, identity);
  const config = new ConfigState(self, endpoints, edges);
  const proxyErrors = new ProxyErrorCounter();
  const rateLog = new RateLimitedLog(log);
  const tracer = new Tracer(opts.service, opts.version);
  config.onApplied((s) => tracer.configure(s.telemetry));

  // The last good snapshot, so the agent serves even when the console never answers.
  try {
    const raw = readPersistedSnapshot(opts.stateDir);
    if (raw !== null) {
      const checked = config.check(raw);
      if (checked.ok) {
        config.apply(checked.snapshot);
        log.info("loaded persisted snapshot", { configVersion: checked.snapshot.version });
      } else {
        log.warn("ignoring persisted snapshot", { error: checked.error });
      }
    }
  } catch (err) {
    log.warn("ignoring unreadable persisted snapshot", { error: (err as Error).message });
  }

  const appPool = createPool(`http://127.0.0.1:${opts.appPort}`, DEFAULT_POOL_OPTIONS);
  // HTTP/2 requests (gRPC) reach the app as HTTP/2 with prior knowledge (h2c), over one multiplexed connection.
  const appH2 = createH2Client(`127.0.0.1:${opts.appPort}`, DEFAULT_POOL_OPTIONS, null, null);
  const outbound = createOutboundListener(
    outboundStack({ config, edges, self, proxyErrors, tracer, meshH2: opts.meshProtocol === "h2" }),
    `${opts.service}/${opts.version}`,
    opts.limits,
    rateLog,
  );
  // Capture mode: redirected connections are sniffed first (non-HTTP is refused, see capture/front.ts).
  const outboundFront = opts.capture ? createCaptureFront(outbound, opts.limits.headersTimeoutMs, proxyErrors, rateLog) : outbound.door();
  const inboundHttp = createInboundListener(
    inboundStack({
      config,
      ingressEdge: edges.get(INGRESS_SOURCE, UNKNOWN_VERSION, opts.service, opts.version),
      proxyErrors,
      appPool,
      appH2,
      appPort: opts.appPort,
      denials,
      rateLog,
      service: opts.service,
      tracer,
    }),
    opts.limits,
    rateLog,
  );
  // The front door: TLS / plaintext per connection, by this service's mTLS mode (read per connection).
  const front = new InboundFront(inboundHttp, identity, rateLog);
  const applyMode = () => {
    const mode = config.routes?.inbound.mtls ?? "DISABLE";
    if (mode !== front.mode) log.info("inbound mTLS mode", { mode, was: front.mode });
    front.mode = mode;
  };
  applyMode();
  config.onApplied(applyMode);
  const inbound = front.server as unknown as Server;
  const admin = createAdminListener({
    config,
    edges,
    proxyErrors,
    endpoints,
    controlConnected: () => link?.connected ?? false,
    control: () =>
      link && {
        console: link.console,
        connected: link.connected,
        connectedSince: link.connectedSince === null ? null : new Date(link.connectedSince).toISOString(),
        failovers: link.failovers,
        consoles: opts.consoleUrls,
      },
    startTimeSeconds: Math.floor(Date.now() / 1000 - process.uptime()),
    security: () => ({
      denials: denials.totals.values(),
      handshakeFailures: front.handshakeFailures,
      certificateNotAfter: identity.current?.notAfter ?? null,
      renewals: identity.renewals,
      mtlsMode: front.mode,
    }),
    http2Connections: () => ({ inbound: inboundHttp.h2.sessionCount(), outbound: outbound.h2.sessionCount() }),
    identityPending: () =>
      !identity.valid && config.snapshot?.services.some((s) => s.mtls !== "DISABLE")
        ? "no workload certificate yet (the snapshot asks for mTLS)"
        : null,
    identity: () =>
      identity.current && {
        spiffeId: identity.current.spiffeId,
        serial: identity.current.serial,
        notBefore: new Date(identity.current.notBefore).toISOString(),
        notAfter: new Date(identity.current.notAfter).toISOString(),
        renewals: identity.renewals,
        chain: identity.current.chainPem,
        trust: { generation: trust.generation, ...identity.trustStatus() },
      },
  });

  const outboundDoor = outboundFront as unknown as Server;
  const servers = [outboundDoor, inbound, admin];
  let ports: Ports;
  try {
    ports = {
      inbound: await listen(inbound, opts.inboundPort, opts.inboundHost),
      outbound: await listen(outboundDoor, opts.outboundPort, "127.0.0.1"),
      admin: await listen(admin, opts.adminPort, opts.adminHost),
      app: opts.appPort,
    };
    // The inbound HTTP server never listens itself (the front door hands it connections): start its
    // headers/request timeout checks (408 for slow clients) the way listening would.
    inboundHttp.started();
    outbound.started();
  } catch (err) {
    for (const s of servers) if (s.listening) s.close();
    await Promise.allSettled([appPool.destroy(), appH2.destroy()]);
    throw err;
  }

  const reporter = new TelemetryReporter(edges, (frame) => link?.send(frame) ?? false, tracer, denials);
  reporter.start(config.snapshot?.telemetry.intervalMs ?? 1000);
  config.onApplied((s) => reporter.start(s.telemetry.intervalMs));

  if (opts.consoleUrls.length > 0) {
    const hello = (): HelloFrame => ({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      token: opts.token,
      service: opts.service,
      version: opts.version,
      instanceId: opts.instanceId,
      inboundAddress: `${opts.advertiseHost}:${ports.inbound}`,
      ports,
      agentVersion: AGENT_VERSION,
      configVersion: config.version,
    });
    link = new ControlLink({
      urls: opts.consoleUrls,
      ca: opts.consoleCa,
      caPin: opts.consoleCaPin,
      serverName: opts.consoleServerName,
      hello,
      onSnapshot: createSnapshotHandler(config, (s) => persistSnapshot(opts.stateDir, s), log),
      log,
      heartbeatMs: opts.heartbeatMs,
      onUp: () => identity.linkUp(),
      onCertificate: (frame) => identity.accept(frame),
      onTrust: (frame) => trust.apply(frame),
    });
    link.start();
  }

  const listening = {
    msg: "agent listening",
    inbound: ports.inbound,
    outbound: ports.outbound,
    admin: ports.admin,
    app: ports.app,
    service: opts.service,
    version: opts.version,
    instanceId: opts.instanceId,
    configVersion: config.version,
    pid: process.pid,
  };
  const portsFile = join(opts.stateDir, "ports.json");
  try {
    await writeFile(`${portsFile}.tmp`, `${JSON.stringify(listening)}\n`);
    await rename(`${portsFile}.tmp`, portsFile);
  } catch (err) {
    // A read-only or full state dir must not keep the agent from serving (the chaos run found it did): the listening
    // line below carries the same ports; only tools that read the file miss them.
    log.warn("could not write the ports file", { file: portsFile, error: (err as Error).message });
  }
  const { msg, ...fields } = listening;
  log.info(msg, fields);

  return {
    ports,
    config,
    async stop(graceMs = 1000) {
      reporter.stop();
      identity.stop();
      // Upgraded connections (WebSockets) are no HTTP server's any more: they get the same grace, then are closed.
      const tunnels = setTimeout(closeAllTunnels, graceMs);
      await Promise.all([
        link?.stop(),
        ...servers.map((s) =>
          s === inbound
            ? closeFront(front.server, inboundHttp, graceMs)
            : s === outboundDoor
              ? closeFront(outboundFront, outbound, graceMs)
              : closeServer(s, graceMs),
        ),
      ]);
      clearTimeout(tunnels);
      await Promise.allSettled([appPool.destroy(), appH2.destroy(), endpoints.closeAll()]);
    },
  };
}

/**
 * Prometheus text exposition format 0.0.4. Names follow the field's conventions (`requests_total`,
 * `request_duration_seconds`); every family has HELP and TYPE, every series appears once.
 * Series cover the edges this agent reports: its outbound calls and ingress calls to its own service.
 */
import { LATENCY_BUCKETS_MS } from "@trellis/protocol";
import type { EdgeGroup, EdgeRegistry } from "../telemetry/edges.ts";
import type { ProxyErrorCounter } from "../telemetry/proxy-errors.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `le` values in seconds, printed without float noise (0.00030000000000000003 → 0.0003). */
const LE = LATENCY_BUCKETS_MS.map((ms) => String(Number((ms / 1000).toPrecision(12))));

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
}

/** The control link as the admin listener shows it: which console (replica) the agent talks to. */
export interface ControlStatus {
  /** The console connected to, or being dialled while down. */
  console: string;
  connected: boolean;
  /** ISO time the current connection opened; null while down. */
  connectedSince: string | null;
  /** Connections established on another console than the one before. */
  failovers: number;
  /** Every console URL the agent was given, in dial order. */
  consoles: readonly string[];
}

/** An edge's labels; mirrored copies carry `mirror="true"` so that they never merge with the answered calls. */
function edgeLabels(g: EdgeGroup): string {
  const labels = `source_service="${esc(g.source)}",source_version="${esc(g.sourceVersion)}",destination_service="${esc(g.destination)}",destination_version="${esc(g.destinationVersion)}"`;
  return g.mirrored ? `${labels},mirror="true"` : labels;
}

export interface ProcessInfo {
  configVersion: number;
  controlConnected: boolean;
  /** Absent when the agent has no console. */
  control?: ControlStatus | null;
  ready: boolean;
  endpoints: number;
  startTimeSeconds: number;
  /** HTTP/2 connections open on each listener (between agents: one per calling agent and endpoint). */
  http2Connections?: { inbound: number; outbound: number };
  security?: {
    denials: Iterable<{ destination: string; principal: string; count: number }>;
    handshakeFailures: number;
    certificateNotAfter: number | null;
    renewals: number;
    mtlsMode: string;
  };
}

export function renderMetrics(edges: EdgeRegistry, proxyErrors: ProxyErrorCounter, info: ProcessInfo): string {
  const out: string[] = [];
  const groups = [...edges.all()].filter((g) => g.count > 0);

  out.push("# HELP requests_total Requests carried, per edge and response code (reported by the calling agent; ingress by the receiving one).");
  out.push("# TYPE requests_total counter");
  for (const g of groups) {
    const labels = edgeLabels(g);
    const codes = [...g.codes.entries()].sort((a, b) => a[0] - b[0]);
    for (const [code, n] of codes) out.push(`requests_total{${labels},response_code="${code}"} ${n}`);
  }

  // gRPC outcomes: the status in the trailers behind an HTTP 200 (Linkerd's classification label is the same idea).
  out.push("# HELP grpc_responses_total gRPC calls carried, per edge and gRPC status code.");
  out.push("# TYPE grpc_responses_total counter");
  for (const g of groups) {
    if (g.grpcCodes.size === 0) continue;
    const labels = `source_service="${esc(g.source)}",source_version="${esc(g.sourceVersion)}",destination_service="${esc(g.destination)}",destination_version="${esc(g.destinationVersion)}"`;
    const codes = [...g.grpcCodes.entries()].sort((a, b) => a[0] - b[0]);
    for (const [code, n] of codes) out.push(`grpc_responses_total{${labels},grpc_status="${code}"} ${n}`);
  }

  out.push("# HELP request_duration_seconds Time from request received to response complete, per edge.");
  out.push("# TYPE request_duration_seconds histogram");
  for (const g of groups) {
    const labels = edgeLabels(g);
    const counts = g.latency.counts;
    let cumulative = 0;
    for (let i = 0; i < LE.length; i++) {
      cumulative += counts[i] ?? 0;
      out.push(`request_duration_seconds_bucket{${labels},le="${LE[i]}"} ${cumulative}`);
    }
    cumulative += counts[LE.length] ?? 0;
    out.push(`request_duration_seconds_bucket{${labels},le="+Inf"} ${cumulative}`);
    out.push(`request_duration_seconds_sum{${labels}} ${num(g.latency.sumMs / 1000)}`);
    out.push(`request_duration_seconds_count{${labels}} ${cumulative}`);
  }

  const mirrors = [...edges.all()].filter((g) => g.mirrored);
  out.push("# HELP trellis_mirror_dropped_total Mirrored copies not sent because too many were in flight, per mirror edge.");
  out.push("# TYPE trellis_mirror_dropped_total counter");
  for (const g of mirrors) out.push(`trellis_mirror_dropped_total{${edgeLabels(g)}} ${g.mirrorsDropped}`);

  out.push("# HELP trellis_proxy_errors_total Errors produced by the agent itself, by listener and x-trellis-error value.");
  out.push("# TYPE trellis_proxy_errors_total counter");
  for (const c of proxyErrors.counts.values()) out.push(`trellis_proxy_errors_total{listener="${esc(c.listener)}",error="${esc(c.kind)}"} ${c.n}`);

  const sec = info.security;
  if (sec) {
    out.push("# HELP trellis_authz_denied_total Calls to this service denied by its authorization policy, by caller identity.");
    out.push("# TYPE trellis_authz_denied_total counter");
    for (const d of sec.denials)
      out.push(`trellis_authz_denied_total{destination_service="${esc(d.destination)}",principal="${esc(d.principal)}"} ${d.count}`);
    out.push(
      "# HELP trellis_inbound_tls_handshake_failures_total Inbound TLS handshakes that failed (no, foreign or expired client certificate, or not TLS in STRICT).",
    );
    out.push("# TYPE trellis_inbound_tls_handshake_failures_total counter");
    out.push(`trellis_inbound_tls_handshake_failures_total ${sec.handshakeFailures}`);
    out.push("# HELP trellis_certificate_expiry_timestamp_seconds When this agent's certificate expires (0 = none).");
    out.push("# TYPE trellis_certificate_expiry_timestamp_seconds gauge");
    out.push(`trellis_certificate_expiry_timestamp_seconds ${sec.certificateNotAfter === null ? 0 : Math.floor(sec.certificateNotAfter / 1000)}`);
    out.push("# HELP trellis_certificate_renewals_total Certificates renewed since start.");
    out.push("# TYPE trellis_certificate_renewals_total counter");
    out.push(`trellis_certificate_renewals_total ${sec.renewals}`);
    out.push("# HELP trellis_inbound_mtls_mode The inbound listener's mTLS mode (1 for the mode in force).");
    out.push("# TYPE trellis_inbound_mtls_mode gauge");
    for (const m of ["STRICT", "PERMISSIVE", "DISABLE"]) out.push(`trellis_inbound_mtls_mode{mode="${m}"} ${sec.mtlsMode === m ? 1 : 0}`);
  }

  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  out.push("# HELP process_resident_memory_bytes Resident memory size in bytes.");
  out.push("# TYPE process_resident_memory_bytes gauge");
  out.push(`process_resident_memory_bytes ${mem.rss}`);
  out.push("# HELP process_heap_bytes V8 heap used in bytes.");
  out.push("# TYPE process_heap_bytes gauge");
  out.push(`process_heap_bytes ${mem.heapUsed}`);
  out.push("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.");
  out.push("# TYPE process_cpu_seconds_total counter");
  out.push(`process_cpu_seconds_total ${num((cpu.user + cpu.system) / 1e6)}`);
  out.push("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.");
  out.push("# TYPE process_start_time_seconds gauge");
  out.push(`process_start_time_seconds ${num(info.startTimeSeconds)}`);

  out.push("# HELP trellis_config_version Version of the applied config snapshot (0 = none).");
  out.push("# TYPE trellis_config_version gauge");
  out.push(`trellis_config_version ${info.configVersion}`);
  out.push("# HELP trellis_control_connected Whether the control link to the console is up (1) or not (0).");
  out.push("# TYPE trellis_control_connected gauge");
  out.push(`trellis_control_connected ${info.controlConnected ? 1 : 0}`);
  const control = info.control;
  if (control) {
    out.push("# HELP trellis_control_console Which console (replica) the control link is connected to: 1 for that URL, 0 for the others.");
    out.push("# TYPE trellis_control_console gauge");
    for (const url of control.consoles)
      out.push(`trellis_control_console{url="${esc(url)}"} ${control.connected && url === control.console ? 1 : 0}`);
    out.push("# HELP trellis_control_failovers_total Control connections established on another console than the one before.");
    out.push("# TYPE trellis_control_failovers_total counter");
    out.push(`trellis_control_failovers_total ${control.failovers}`);
  }
  out.push("# HELP trellis_ready Whether a config snapshot is applied (1) or not (0).");
  out.push("# TYPE trellis_ready gauge");
  out.push(`trellis_ready ${info.ready ? 1 : 0}`);
  out.push("# HELP trellis_upstream_endpoints Endpoint addresses with a connection pool.");
  out.push("# TYPE trellis_upstream_endpoints gauge");
  out.push(`trellis_upstream_endpoints ${info.endpoints}`);
  if (info.http2Connections) {
    out.push("# HELP trellis_http2_connections HTTP/2 connections open on a listener.");
    out.push("# TYPE trellis_http2_connections gauge");
    out.push(`trellis_http2_connections{listener="inbound"} ${info.http2Connections.inbound}`);
    out.push(`trellis_http2_connections{listener="outbound"} ${info.http2Connections.outbound}`);
  }
  return `${out.join("\n")}\n`;
}

"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { type EdgeOutcomeInput, edgeOutcomes } from "../../shared/edge-outcomes.ts";
import { formatMs, formatPct, formatRps } from "../../shared/graph-model.ts";
import { healthOf } from "../../shared/health.ts";
import { useTRPC } from "../lib/trpc.ts";
import { AuthzPanel } from "./AuthzPanel.tsx";
import { CanaryPanel } from "./CanaryPanel.tsx";
import { MirrorCard } from "./MirrorCard.tsx";
import { MtlsPanel } from "./MtlsPanel.tsx";
import { ServiceObservability } from "./ServiceObservability.tsx";
import { TrafficPanel } from "./TrafficPanel.tsx";
import { ago, ConnBadge, HealthBadge, Stat, SyncBadge } from "./ui.tsx";

interface EdgeRow extends EdgeOutcomeInput {
  source: string;
  sourceVersion: string;
  destination: string;
  destinationVersion: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errorPct: number;
  mtlsPct: number;
  requests: number;
}

/** gRPC status codes for gRPC calls (an edge may carry both), HTTP status classes for the others. */
function Outcomes({ edge }: { edge: EdgeOutcomeInput }) {
  return (
    <span>
      {edgeOutcomes(edge).map((o) => (
        <span
          key={`${o.protocol}:${o.code}`}
          className={`chip${o.failure ? " bad" : ""}`}
          data-protocol={o.protocol}
          data-code={o.code}
          title={o.protocol === "grpc" ? `gRPC status ${o.code} (${o.label})` : `HTTP ${o.label}`}
        >
          {o.protocol === "grpc" ? "gRPC " : ""}
          {o.label} {o.count}
        </span>
      ))}
    </span>
  );
}

function EdgesTable({ rows, direction, testId }: { rows: EdgeRow[]; direction: "in" | "out"; testId: string }) {
  if (rows.length === 0) return <p className="muted small">No {direction === "in" ? "inbound" : "outbound"} traffic in the window.</p>;
  return (
    <table className="table compact" data-testid={testId}>
      <thead>
        <tr>
          <th>{direction === "in" ? "From" : "To"}</th>
          <th>{direction === "in" ? "Version served" : "From version"}</th>
          <th className="num">RPS</th>
          <th className="num">p50</th>
          <th className="num">p99</th>
          <th className="num">Errors</th>
          <th className="num">mTLS</th>
          <th>Outcomes</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => {
          const peer = direction === "in" ? e.source : e.destination;
          const peerVersion = direction === "in" ? e.sourceVersion : e.destinationVersion;
          const own = direction === "in" ? e.destinationVersion : e.sourceVersion;
          return (
            <tr key={`${e.source}@${e.sourceVersion}->${e.destination}@${e.destinationVersion}`} data-rps={e.rps}>
              <td>
                {peer === "ingress" ? <span className="strong">ingress</span> : <Link href={`/services/${encodeURIComponent(peer)}`}>{peer}</Link>}{" "}
                {peer !== "ingress" && <span className="chip">{peerVersion}</span>}
              </td>
              <td>
                <span className="chip">{own}</span>
              </td>
              <td className="num">{formatRps(e.rps)}</td>
              <td className="num">{formatMs(e.p50Ms)}</td>
              <td className="num">{formatMs(e.p99Ms)}</td>
              <td className="num">
                <span className={`health-text-${healthOf(e.requests, e.errorPct)}`}>{formatPct(e.errorPct)}</span>
              </td>
              <td className="num">{formatPct(e.mtlsPct)}</td>
              <td data-testid="edge-outcomes">
                <Outcomes edge={e} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function ServiceDetail({ name }: { name: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.services.get.queryOptions({ name }, { refetchInterval: 1_500 }));
  if (q.isPending) return <p className="muted">Loading…</p>;
  if (q.error) {
    return (
      <div>
        <h1>{name}</h1>
        <p className="error" data-testid="service-error">
          {q.error.data?.code === "NOT_FOUND" ? `No service named ${name}.` : q.error.message}
        </p>
        <Link href="/services">All services</Link>
      </div>
    );
  }
  const s = q.data;
  const inbound = s.stats.inbound;
  const health = healthOf(inbound.requests, inbound.errorPct);
  const series = s.stats.series.map((p) => ({ ...p, time: new Date(p.t).toLocaleTimeString([], { hour12: false }) }));
  return (
    <div data-testid="service-detail" data-service={s.name}>
      <div className="page-head">
        <h1>{s.name}</h1>
        <HealthBadge health={health} />
        <span className="muted">config v{s.configVersion}</span>
      </div>
      <section className="stats" data-testid="service-stats">
        <Stat label={`RPS in (last ${s.stats.windowSeconds} s)`} value={formatRps(inbound.rps)} testId="stat-rps" />
        <Stat label="p50" value={inbound.requests ? formatMs(inbound.p50Ms) : "–"} testId="stat-p50" />
        <Stat label="p99" value={inbound.requests ? formatMs(inbound.p99Ms) : "–"} testId="stat-p99" />
        <Stat label="Errors" value={inbound.requests ? formatPct(inbound.errorPct) : "–"} testId="stat-errors" />
        <Stat label="RPS out" value={formatRps(s.stats.outbound.rps)} testId="stat-rps-out" />
      </section>

      <TrafficPanel service={s.name} />
      <MirrorCard service={s.name} />
      <CanaryPanel service={s.name} versions={s.versions.map((v) => v.version)} />

      <section className="card">
        <h2>Inbound traffic, last {Math.round(series.length / 60) || 1} min</h2>
        <div className="chart" data-testid="service-chart">
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={series} margin={{ top: 8, right: 24, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
              <XAxis dataKey="time" minTickGap={40} tick={{ fontSize: 11 }} />
              <YAxis yAxisId="rps" tick={{ fontSize: 11 }} width={40} />
              <YAxis yAxisId="ms" orientation="right" tick={{ fontSize: 11 }} width={48} unit=" ms" />
              <Tooltip />
              <Legend />
              <Line yAxisId="rps" type="monotone" dataKey="rps" name="rps" stroke="#2563eb" dot={false} isAnimationActive={false} />
              <Line yAxisId="ms" type="monotone" dataKey="p99Ms" name="p99 ms" stroke="#d97706" dot={false} isAnimationActive={false} />
              <Line yAxisId="ms" type="monotone" dataKey="p50Ms" name="p50 ms" stroke="#16a34a" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </section>

      <ServiceObservability name={s.name} />

      <div className="grid-2">
        <section className="card">
          <h2>Inbound</h2>
          <EdgesTable rows={s.stats.edgesIn} direction="in" testId="edges-in" />
        </section>
        <section className="card">
          <h2>Outbound</h2>
          <EdgesTable rows={s.stats.edgesOut} direction="out" testId="edges-out" />
        </section>
      </div>

      <section className="card">
        <h2>Versions</h2>
        <div className="versions" data-testid="versions">
          {s.versions.map((v) => (
            <span key={v.version} className="chip big" data-testid={`version-${v.version}`}>
              {v.version} · {v.connected}/{v.instances} connected
            </span>
          ))}
        </div>
      </section>

      <section className="card">
        <h2>Instances</h2>
        {s.instances.length === 0 ? (
          <p className="muted">No instances.</p>
        ) : (
          <table className="table compact" data-testid="instances-table">
            <thead>
              <tr>
                <th>Instance</th>
                <th>Version</th>
                <th>Address</th>
                <th>Agent</th>
                <th>Connection</th>
                <th>Last seen</th>
                <th>Sync</th>
                <th className="num">Config (acked / sent)</th>
              </tr>
            </thead>
            <tbody>
              {s.instances.map((i) => (
                <tr key={i.instanceId} data-testid={`instance-row-${i.instanceId}`} data-sync={i.syncState} data-connected={String(i.connected)}>
                  <td className="mono">{i.instanceId}</td>
                  <td>
                    <span className="chip">{i.version}</span>
                  </td>
                  <td className="mono">{i.address}</td>
                  <td className="mono">{i.agentVersion}</td>
                  <td>
                    <ConnBadge connected={i.connected} />
                  </td>
                  <td title={i.lastSeen}>{i.connected ? "now" : ago(i.lastSeen)}</td>
                  <td title={i.syncError ?? undefined}>
                    <SyncBadge state={i.syncState} />
                  </td>
                  <td className="num mono">
                    v{i.ackedVersion} / v{i.sentVersion}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <MtlsPanel name={s.name} />
      <AuthzPanel name={s.name} />
    </div>
  );
}

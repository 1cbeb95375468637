"use client";
/** One edge of the graph (source → destination): charts over time and its recent, failed and slowest traces. */
import Link from "next/link";
import { tracesHref } from "../lib/trace-links.ts";
import { MetricsCharts } from "./MetricsCharts.tsx";

export function EdgeDetail({ source, destination }: { source: string; destination: string }) {
  return (
    <div data-testid="edge-detail" data-source={source} data-destination={destination}>
      <div className="page-head">
        <h1>
          <Link href={`/services/${encodeURIComponent(source)}`}>{source}</Link> →{" "}
          <Link href={`/services/${encodeURIComponent(destination)}`}>{destination}</Link>
        </h1>
      </div>
      <section className="card trace-links">
        <h2 style={{ margin: 0 }}>Traces of this edge</h2>
        <Link href={tracesHref({ service: source, peer: destination })} data-testid="edge-traces-recent">
          recent
        </Link>
        <Link href={tracesHref({ service: source, peer: destination, errorsOnly: true })} data-testid="edge-traces-errors">
          failed
        </Link>
        <Link href={tracesHref({ service: source, peer: destination, sort: "slowest" })} data-testid="edge-traces-slowest">
          slowest
        </Link>
      </section>
      <MetricsCharts scope={{ source, destination }} testId="edge-metrics" />
    </div>
  );
}

"use client";
/** On a service page: charts over time and the way to its recent, failed and slowest traces. */
import Link from "next/link";
import { tracesHref } from "../lib/trace-links.ts";
import { MetricsCharts } from "./MetricsCharts.tsx";

export function ServiceObservability({ name }: { name: string }) {
  return (
    <>
      <section className="card trace-links" data-testid="service-traces">
        <h2 style={{ margin: 0 }}>Traces</h2>
        <Link href={tracesHref({ service: name })} data-testid="service-traces-recent">
          recent
        </Link>
        <Link href={tracesHref({ service: name, errorsOnly: true })} data-testid="service-traces-errors">
          failed
        </Link>
        <Link href={tracesHref({ service: name, sort: "slowest" })} data-testid="service-traces-slowest">
          slowest
        </Link>
      </section>
      <MetricsCharts scope={{ service: name }} testId="service-metrics" />
    </>
  );
}

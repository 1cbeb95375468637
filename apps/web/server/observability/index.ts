/** The console's observability services, wired once in console/backend.ts and handed to tRPC through the context. */
import type { Logger } from "../log.ts";
import { type RunExclusively, runHere } from "../replicas/leases.ts";
import type { Repositories } from "../repositories/index.ts";
import type { TelemetryStore } from "../telemetry-store.ts";
import { HttpSpanExporter } from "./batch-export.ts";
import { otlpEncoding, otlpOptionsFromEnv } from "./otlp.ts";
import { RollupTask, rollupOptionsFromEnv } from "./rollups.ts";
import { SpanIngestor, spanIngestOptionsFromEnv } from "./span-ingest.ts";
import { zipkinEncoding, zipkinOptionsFromEnv } from "./zipkin.ts";

export interface Observability {
  store: TelemetryStore;
  spans: SpanIngestor;
  rollups: RollupTask;
  otlp: HttpSpanExporter | null;
  zipkin: HttpSpanExporter | null;
  close(): Promise<void>;
}

export async function startObservability(
  repos: Repositories,
  store: TelemetryStore,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  /** Run-once work (rollups, span retention) under a lease when several replicas share the database. */
  exclusive: RunExclusively = runHere,
): Promise<Observability> {
  const spans = new SpanIngestor(repos.spans, spanIngestOptionsFromEnv(env), log.child({ component: "spans" }), exclusive);
  const otlpOpts = otlpOptionsFromEnv(env);
  const otlp = otlpOpts ? new HttpSpanExporter(otlpEncoding, otlpOpts, log.child({ component: "otlp" })) : null;
  if (otlp) {
    spans.addExporter(otlp.export);
    log.info("exporting spans over OTLP/HTTP", { endpoint: otlp.url });
  }
  const zipkinOpts = zipkinOptionsFromEnv(env);
  const zipkin = zipkinOpts ? new HttpSpanExporter(zipkinEncoding, zipkinOpts, log.child({ component: "zipkin" })) : null;
  if (zipkin) {
    spans.addExporter(zipkin.export);
    log.info("exporting spans in Zipkin v2 JSON", { endpoint: zipkin.url });
  }
  spans.start();
  const rollups = new RollupTask(store, repos.rollups, rollupOptionsFromEnv(env), log.child({ component: "rollups" }), exclusive);
  await rollups.start();
  return {
    store,
    spans,
    rollups,
    otlp,
    zipkin,
    async close() {
      rollups.stop();
      await spans.close();
    },
  };
}

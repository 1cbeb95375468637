/** The console's observability services, wired once in console/backend.ts and handed to tRPC through the context. */
import type { Logger } from "../log.ts";
import type { Repositories } from "../repositories/index.ts";
import type { TelemetryStore } from "../telemetry-store.ts";
import { OtlpExporter, otlpOptionsFromEnv } from "./otlp.ts";
import { RollupTask, rollupOptionsFromEnv } from "./rollups.ts";
import { SpanIngestor, spanIngestOptionsFromEnv } from "./span-ingest.ts";

export interface Observability {
  store: TelemetryStore;
  spans: SpanIngestor;
  rollups: RollupTask;
  otlp: OtlpExporter | null;
  close(): Promise<void>;
}

export async function startObservability(
  repos: Repositories,
  store: TelemetryStore,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Observability> {
  const spans = new SpanIngestor(repos.spans, spanIngestOptionsFromEnv(env), log.child({ component: "spans" }));
  const otlpOpts = otlpOptionsFromEnv(env);
  const otlp = otlpOpts ? new OtlpExporter(otlpOpts, log.child({ component: "otlp" })) : null;
  if (otlp) {
    spans.addExporter(otlp.export);
    log.info("exporting spans over OTLP/HTTP", { endpoint: otlpOpts!.endpoint });
  }
  spans.start();
  const rollups = new RollupTask(store, repos.rollups, rollupOptionsFromEnv(env), log.child({ component: "rollups" }));
  await rollups.start();
  return {
    store,
    spans,
    rollups,
    otlp,
    async close() {
      rollups.stop();
      await spans.close();
    },
  };
}

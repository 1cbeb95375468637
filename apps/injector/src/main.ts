/**
 * `trellis-injector`: the webhook process. TLS from TLS_CERT_FILE/TLS_KEY_FILE (a Secret mounted by deploy/injector,
 * written by cert-manager or by hand); re-read every minute so a rotated certificate is served without a restart.
 * SIGTERM: stop accepting, finish in-flight reviews, exit 0.
 */
import { readFileSync } from "node:fs";
import { loadInjectorConfig } from "./config.ts";
import { TrellisError } from "./errors.ts";
import { jsonLog } from "./log.ts";
import { createInjectorServer } from "./server.ts";

const certFile = process.env.TLS_CERT_FILE || "/etc/trellis-injector/tls/tls.crt";
const keyFile = process.env.TLS_KEY_FILE || "/etc/trellis-injector/tls/tls.key";
const port = Number(process.env.PORT || 9443);

function readTls(): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

try {
  const config = loadInjectorConfig();
  const server = createInjectorServer({ ...readTls(), config, log: jsonLog });
  const reload = setInterval(() => {
    try {
      server.setSecureContext(readTls());
    } catch (err) {
      jsonLog("warn", "TLS reload failed; serving the previous certificate", { error: (err as Error).message });
    }
  }, 60_000);
  reload.unref();
  server.listen(port, "0.0.0.0", () => jsonLog("info", "injector listening", { port, agentImage: config.agentImage, console: config.consoleUrl }));
  process.on("SIGTERM", () => {
    jsonLog("info", "injector stopping");
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  });
} catch (err) {
  jsonLog("error", "injector failed to start", { code: err instanceof TrellisError ? err.code : undefined, error: (err as Error).message });
  process.exit(1);
}

/** The injector's real HTTPS server on a free port, and a client that checks its certificate as the API server does. */

import https from "node:https";
import type { AddressInfo } from "node:net";
import { DEFAULT_CONFIG, type InjectorConfig } from "../../src/config.ts";
import { silentLog } from "../../src/log.ts";
import { createInjectorServer } from "../../src/server.ts";
import { selfSignedCert, WEBHOOK_HOST } from "./tls.ts";

export interface RunningWebhook {
  port: number;
  ca: string;
  close(): Promise<void>;
}

export async function startWebhook(config: InjectorConfig = DEFAULT_CONFIG): Promise<RunningWebhook> {
  const { key, cert } = selfSignedCert();
  const server = createInjectorServer({ key, cert, config, log: silentLog });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    ca: cert,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One request, TLS verified against the webhook's CA under the Service's DNS name (the caBundle check). */
export function call(hook: RunningWebhook, method: string, path: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port: hook.port, method, path, ca: hook.ca, servername: WEBHOOK_HOST, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

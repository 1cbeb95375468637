/** Next.js on the console's own http.Server (production build, or dev mode with HMR on the same server). */
import type http from "node:http";
import { WEB_DIR } from "../config.ts";

export interface Frontend {
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  close(): Promise<void>;
}

export async function prepareNext(opts: { dev: boolean; host: string; port: number; server: http.Server }): Promise<Frontend> {
  const { default: next } = await import("next");
  const app = next({ dev: opts.dev, dir: WEB_DIR, hostname: opts.host, port: opts.port, httpServer: opts.server, quiet: !opts.dev });
  await app.prepare();
  return { handle: app.getRequestHandler(), close: () => app.close() };
}

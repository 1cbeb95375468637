/**
 * The launcher's control channel to an app: JSON lines on the app's stdin. The only message today is
 * `{"type":"outbound","port":P}` — the agent's outbound port, known only after the agent started (it needed the app's
 * port first). When stdin closes the launcher is gone, and the app exits rather than linger as an orphan.
 */
import readline from "node:readline";
import { log } from "./log.ts";

export interface ControlHandlers {
  onOutboundPort(port: number): void;
  onClose(): void;
}

export function parseControlLine(line: string): { type: "outbound"; port: number } | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  const m = msg as { type?: unknown; port?: unknown };
  if (m && m.type === "outbound" && Number.isInteger(m.port) && (m.port as number) > 0 && (m.port as number) < 65536)
    return { type: "outbound", port: m.port as number };
  return undefined;
}

export function listenForControl(handlers: ControlHandlers): void {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    if (!line.trim()) return;
    const msg = parseControlLine(line);
    if (!msg) return log("warn", "ignored control line", { line: line.slice(0, 200) });
    handlers.onOutboundPort(msg.port);
  });
  rl.on("close", () => handlers.onClose());
}

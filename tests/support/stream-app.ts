/** A real streaming app for integration tests: a `ws` WebSocket server plus server-sent events and a stalled stream. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface StreamApp {
  port: number;
  /** Close code and reason of every socket the server saw close, in order. */
  closes: { code: number; reason: string }[];
  close(): Promise<void>;
}

/**
 * `GET /events?count=N&everyMs=M`: N server-sent events, one every M ms. `GET /stall`: one chunk, then nothing.
 * WebSocket on any path: every message echoed back as it came (text as text, binary as binary); a text message
 * `close:<code>:<reason>` makes the server close with that code and reason.
 */
export async function startStreamApp(): Promise<StreamApp> {
  const closes: { code: number; reason: string }[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/events") {
      const count = Number(url.searchParams.get("count") ?? 10);
      const every = Number(url.searchParams.get("everyMs") ?? 100);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`id: ${n}\ndata: event ${n}\n\n`);
        if (++n === count) {
          clearInterval(timer);
          res.end();
        }
      }, every);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (url.pathname === "/stall") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first chunk\n");
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      const m = /^close:(\d+):(.*)$/.exec(text);
      if (m) ws.close(Number(m[1]), m[2]);
      else ws.send(data, { binary: isBinary });
    });
    ws.on("close", (code, reason) => closes.push({ code, reason: reason.toString() }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    closes,
    close: () =>
      new Promise((r) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

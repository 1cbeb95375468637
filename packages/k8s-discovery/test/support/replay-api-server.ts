/**
 * A local HTTP server that answers a Kubernetes client the way the API server does, from recorded responses:
 * a LIST is one JSON document (with `metadata.resourceVersion`); a WATCH (`?watch=true`) is a 200 with chunked JSON
 * lines `{"type":…,"object":…}`. Each resource has a queue of lists and a queue of watches, served in order. A watch
 * sends its headers at once (the client's informer waits for them) and its events only when the test releases it;
 * it then ends (the client re-watches or relists) or, the last one, stays open until the server closes.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface WatchScript {
  file: string;
  /** Keep the stream open after the events (the informer's steady state). */
  hold?: boolean;
}

export interface ResourceScript {
  /** Bodies of successive LISTs; "" answers that LIST with a 500 (an API server that is not there yet). */
  lists: string[];
  watches: WatchScript[];
}

export interface ReplayServer {
  url: string;
  /** Every request, as `path?query`, in arrival order. */
  requests: string[];
  /** Lets the next pending watch of `path` send its events. */
  release(path: string): void;
  close(): Promise<void>;
}

export async function startReplayServer(fixtures: string, scripts: Record<string, ResourceScript>): Promise<ReplayServer> {
  const requests: string[] = [];
  const read = (f: string) => readFileSync(`${fixtures}/${f}`, "utf8");
  const gates = new Map<string, { waiting: (() => void)[]; released: number }>();
  const gate = (path: string) => {
    let g = gates.get(path);
    if (!g) {
      g = { waiting: [], released: 0 };
      gates.set(path, g);
    }
    return g;
  };
  const open = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${url.pathname}${url.search}`);
    const script = scripts[url.pathname];
    if (!script) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "NotFound", code: 404 }));
      return;
    }
    if (url.searchParams.get("watch") !== "true") {
      const body = script.lists.shift();
      res.writeHead(body ? 200 : 500, { "content-type": "application/json" });
      res.end(body ? read(body) : "{}");
      return;
    }
    const watch = script.watches.shift();
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    if (!watch) return void open.add(res);
    const g = gate(url.pathname);
    const send = () => {
      for (const line of read(watch.file).split("\n").filter(Boolean)) res.write(`${line}\n`);
      if (watch.hold) open.add(res);
      else res.end();
    };
    if (g.released > 0) {
      g.released -= 1;
      send();
    } else g.waiting.push(send);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    release(path) {
      const g = gate(path);
      const next = g.waiting.shift();
      if (next) next();
      else g.released += 1;
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of open) res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The benchmark upstream: a small keep-alive server answering every request with 1 KB, on two ports — HTTP/1.1
 * (node:http) and HTTP/2 with prior knowledge (node:http2, h2c) — so that an HTTP/2 client's direct reference hits the
 * same process and handler as the mesh's HTTP/1.1 hop to the app. Prints {"port":n,"h2Port":m}.
 */
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";

const body = Buffer.alloc(1024, "x");
const handle = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  });
};
const server = http.createServer(handle);
server.keepAliveTimeout = 120_000;
const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, handle);
const listen = (s: http.Server | http2.Http2Server, port: number) =>
  new Promise<number>((resolve) => s.listen(port, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)));
const port = await listen(server, Number(process.argv[2] ?? 0));
const h2Port = await listen(h2, 0);
console.log(JSON.stringify({ msg: "upstream listening", port, h2Port }));
process.on("SIGTERM", () => process.exit(0));

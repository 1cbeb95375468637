/** The benchmark upstream: a small keep-alive node:http server answering every request with 1 KB. Prints {"port":n}. */
import http from "node:http";
import type { AddressInfo } from "node:net";

const body = Buffer.alloc(1024, "x");
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () =>
  console.log(JSON.stringify({ msg: "upstream listening", port: (server.address() as AddressInfo).port })),
);
process.on("SIGTERM", () => process.exit(0));

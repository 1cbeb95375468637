// A plain app for the capture test, run inside a "pod" (network namespace) with no proxy setting: it listens on its
// normal port on every address, answers with what it saw (the agent-set headers tell whether a call crossed agents)
// and, for /chain, calls the next service by its ordinary name (`http://catalog:8080/chain`).
import http from "node:http";

const [service, port, next] = process.argv.slice(2);
/** @param {http.IncomingMessage} req */
const seen = (req) => ({
  service,
  url: req.url,
  host: req.headers.host ?? null,
  peer: req.headers["x-trellis-peer-identity"] ?? null,
  source: req.headers["x-trellis-source"] ?? null,
});
http
  .createServer((req, res) => {
    console.log(JSON.stringify({ msg: "request", url: req.url, peer: req.headers["x-trellis-peer-identity"] ?? null }));
    /** @param {number} status @param {unknown} body */
    const reply = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (!req.url?.startsWith("/chain") || !next) return reply(200, seen(req));
    http
      .get(`http://${next}/chain`, (r) => {
        let text = "";
        r.setEncoding("utf8").on("data", (d) => (text += d));
        r.on("end", () => {
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {}
          reply(r.statusCode ?? 502, { ...seen(req), next: body, nextStatus: r.statusCode, nextError: r.headers["x-trellis-error"] ?? null });
        });
      })
      .on("error", (/** @type {NodeJS.ErrnoException} */ e) => reply(502, { ...seen(req), nextError: e.code ?? e.message }));
  })
  .listen(Number(port), "0.0.0.0", () => console.log(JSON.stringify({ msg: "app listening", service, port: Number(port) })));

/**
 * nginx as the reference proxy: throwaway CA + certificates made with openssl at run time, a two-hop path
 * (nginx A → TLS with client certificate → nginx B → upstream, keep-alive upstreams on both hops, one worker each,
 * the same shape as client agent → server agent) and a single-worker plaintext proxy for the throughput ceiling.
 * The HTTP/2 two-hop paths (startNginxTwoHopH2) carry HTTP/2 on both hops the way the agents do: A accepts h2c and
 * forwards with `grpc_pass` (nginx's only HTTP/2 upstream client) over TLS 1.3 with a client certificate to B's
 * `ssl http2` listener; B hands plain HTTP requests to the app as HTTP/1.1 (`proxy_pass`, as the inbound agent does)
 * and gRPC calls as h2c (`grpc_pass`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessGroup, run } from "@trellis/testkit";
import { freePort, waitPort } from "./procs.ts";

/** Paths of the throwaway CA and the two leaf certificates (and keys) made in `dir`. */
export interface BenchCerts {
  ca: string;
  serverCrt: string;
  serverKey: string;
  clientCrt: string;
  clientKey: string;
}

export async function makeCerts(dir: string): Promise<BenchCerts> {
  mkdirSync(dir, { recursive: true });
  const o = (...a: string[]) => run("openssl", a, { timeoutMs: 30_000 });
  const f = (n: string) => join(dir, n);
  await o(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=trellis-bench-ca",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
  );
  for (const [name, san] of [
    ["server", "DNS:bench-upstream,IP:127.0.0.1"],
    ["client", "URI:spiffe://trellis.local/service/bench-client"],
  ]) {
    await o(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      f(`${name}.key`),
      "-out",
      f(`${name}.csr`),
    );
    writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
    await o(
      "x509",
      "-req",
      "-in",
      f(`${name}.csr`),
      "-CA",
      f("ca.crt"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      f(`${name}.ext`),
      "-out",
      f(`${name}.crt`),
    );
  }
  return { ca: f("ca.crt"), serverCrt: f("server.crt"), serverKey: f("server.key"), clientCrt: f("client.crt"), clientKey: f("client.key") };
}

function conf(prefix: string, server: string, upstreamBlock: string): string {
  for (const d of ["tmp", "logs"]) mkdirSync(join(prefix, d), { recursive: true });
  return `worker_processes 1;
user root;
daemon off;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy; fastcgi_temp_path ${prefix}/tmp/fcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  ${upstreamBlock}
  ${server}
}
`;
}

async function startNginx(name: string, prefix: string, text: string, port: number): Promise<ProcessGroup> {
  mkdirSync(prefix, { recursive: true });
  const file = join(prefix, "nginx.conf");
  writeFileSync(file, text);
  const proc = new ProcessGroup(name, "nginx", ["-p", prefix, "-e", "stderr", "-c", file]);
  await waitPort(port);
  return proc;
}

/** The second hop: TLS 1.3 requiring a client certificate of the bench CA, then `location` to the app (keep-alive). */
function startHopB(
  name: string,
  prefix: string,
  certs: BenchCerts,
  port: number,
  upstreamPort: number,
  extra: string,
  location: string,
  listenFlags = "",
): Promise<ProcessGroup> {
  const server = `server {
    listen 127.0.0.1:${port} ssl${listenFlags};
    ssl_certificate ${certs.serverCrt}; ssl_certificate_key ${certs.serverKey};
    ssl_client_certificate ${certs.ca}; ssl_verify_client on;
    ssl_protocols TLSv1.3; ssl_session_cache shared:b:1m;
    ${extra}
    location / { ${location} }
  }`;
  return startNginx(name, prefix, conf(prefix, server, `upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }`), port);
}

/** nginx A (plain, app-facing) → mutual TLS → nginx B → upstream. Returns the port the client calls. */
export async function startNginxTwoHop(dir: string, upstreamPort: number): Promise<{ port: number; procs: ProcessGroup[] }> {
  const certs = await makeCerts(dir);
  const [pa, pb] = [await freePort(), await freePort()];
  const b = await startHopB(
    "nginx-b",
    join(dir, "b"),
    certs,
    pb,
    upstreamPort,
    "",
    'proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";',
  );
  const a = await startNginx(
    "nginx-a",
    join(dir, "a"),
    conf(
      join(dir, "a"),
      `server {
    listen 127.0.0.1:${pa};
    location / {
      proxy_pass https://hopb; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
      proxy_ssl_certificate ${certs.clientCrt}; proxy_ssl_certificate_key ${certs.clientKey};
      proxy_ssl_trusted_certificate ${certs.ca}; proxy_ssl_verify on; proxy_ssl_name bench-upstream;
      proxy_ssl_protocols TLSv1.3; proxy_ssl_session_reuse on;
    }
  }`,
      `upstream hopb { server 127.0.0.1:${pb}; keepalive 64; }`,
    ),
    pa,
  );
  return { port: pa, procs: [a, b] };
}

/** nginx A (h2c) → HTTP/2 over mutual TLS → nginx B (`app`: HTTP/1.1 to `upstreamPort`; `grpc`: h2c to it). */
export async function startNginxTwoHopH2(dir: string, upstreamPort: number, app: "http1" | "grpc"): Promise<{ port: number; procs: ProcessGroup[] }> {
  const certs = await makeCerts(dir);
  const [pa, pb] = [await freePort(), await freePort()];
  const toApp = app === "grpc" ? "grpc_pass grpc://app;" : `proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";`;
  const b = await startHopB(
    "nginx-h2-b",
    join(dir, "b"),
    certs,
    pb,
    upstreamPort,
    "http2_max_requests 1000000; http2_max_concurrent_streams 1000;",
    toApp,
    " http2",
  );
  const a = await startNginx(
    "nginx-h2-a",
    join(dir, "a"),
    conf(
      join(dir, "a"),
      `server {
    listen 127.0.0.1:${pa} http2;
    http2_max_requests 1000000; http2_max_concurrent_streams 1000;
    location / {
      grpc_pass grpcs://hopb; grpc_set_header Host $host;
      grpc_ssl_certificate ${certs.clientCrt}; grpc_ssl_certificate_key ${certs.clientKey};
      grpc_ssl_trusted_certificate ${certs.ca}; grpc_ssl_verify on; grpc_ssl_name bench-upstream;
      grpc_ssl_protocols TLSv1.3; grpc_ssl_session_reuse on;
    }
  }`,
      `upstream hopb { server 127.0.0.1:${pb}; keepalive 64; }`,
    ),
    pa,
  );
  return { port: pa, procs: [a, b] };
}

/** One nginx worker proxying the upstream over keep-alive (the throughput reference). */
export async function startNginxSingle(dir: string, upstreamPort: number): Promise<{ port: number; proc: ProcessGroup }> {
  const p = await freePort();
  const proc = await startNginx(
    "nginx-single",
    join(dir, "single"),
    conf(
      join(dir, "single"),
      `server {
    listen 127.0.0.1:${p};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }`,
      `upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }`,
    ),
    p,
  );
  return { port: p, proc };
}

/** PID of the (single) worker process of an nginx master. */
export async function nginxWorkerPid(masterPid: number): Promise<number> {
  const out = await run("ps", ["-o", "pid=", "--ppid", String(masterPid)], { timeoutMs: 5000 });
  return Number(out.trim().split(/\s+/)[0]);
}

/**
 * A real gRPC app (@grpc/grpc-js server, h2c on 127.0.0.1) and its client, for tests that run gRPC through the mesh.
 * Unary calls obey their text: `status:<code>:<message>` answers that status, `sleep:<ms>` answers after that long,
 * `fail-once:<key>` answers UNAVAILABLE the first time a key is seen, then OK. Every call's metadata is recorded.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

export interface Msg {
  text: string;
  n: number;
  blob?: Buffer;
}

const definition = protoLoader.loadSync(fileURLToPath(new URL("./echo.proto", import.meta.url)), { longs: Number, defaults: true });
const proto = grpc.loadPackageDefinition(definition) as unknown as {
  trellis: { test: { Echo: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } } };
};
const Echo = proto.trellis.test.Echo;

export interface SeenCall {
  method: string;
  metadata: Record<string, string>;
  /** The deadline the server was given (grpc-timeout), ms from when the call arrived; null = none. */
  deadlineMs: number | null;
}

export interface GrpcApp {
  port: number;
  calls: SeenCall[];
  /** Calls that the client (or a proxy) cancelled while the server was still working. */
  cancelled: string[];
  close(): Promise<void>;
}

function seen(
  method: string,
  call:
    | grpc.ServerUnaryCall<unknown, unknown>
    | grpc.ServerDuplexStream<unknown, unknown>
    | grpc.ServerWritableStream<unknown, unknown>
    | grpc.ServerReadableStream<unknown, unknown>,
): SeenCall {
  const md: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
  const d = call.getDeadline();
  const deadlineMs = d instanceof Date ? d.getTime() - Date.now() : Number.isFinite(d) ? Number(d) - Date.now() : null;
  return { method, metadata: md, deadlineMs };
}

export async function startGrpcApp(): Promise<GrpcApp> {
  const calls: SeenCall[] = [];
  const cancelled: string[] = [];
  const failedOnce = new Set<string>();
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Unary(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      calls.push(seen("Unary", call));
      const text = call.request.text;
      const status = /^status:(\d+):(.*)$/s.exec(text);
      if (status) return cb({ code: Number(status[1]), details: status[2] });
      const sleep = /^sleep:(\d+)$/.exec(text);
      if (sleep) {
        const t = setTimeout(() => cb(null, { text: "slept", n: 0 }), Number(sleep[1]));
        call.on("cancelled", () => {
          clearTimeout(t);
          cancelled.push(text);
        });
        return;
      }
      const once = /^fail-once:(.*)$/.exec(text);
      if (once && !failedOnce.has(once[1])) {
        failedOnce.add(once[1]);
        return cb({ code: grpc.status.UNAVAILABLE, details: "first attempt fails" });
      }
      cb(null, { text: `echo: ${text}`, n: call.request.n, blob: call.request.blob });
    },
    ServerStream(call: grpc.ServerWritableStream<Msg, Msg>) {
      calls.push(seen("ServerStream", call));
      for (let i = 0; i < call.request.n; i++) call.write({ text: `${call.request.text} ${i}`, n: i });
      call.end();
    },
    ClientStream(call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) {
      calls.push(seen("ClientStream", call));
      let count = 0;
      let sum = 0;
      call.on("data", (m: Msg) => {
        count++;
        sum += m.n;
      });
      call.on("end", () => cb(null, { text: `got ${count}`, n: sum }));
    },
    Bidi(call: grpc.ServerDuplexStream<Msg, Msg>) {
      calls.push(seen("Bidi", call));
      call.on("data", (m: Msg) => call.write({ text: `echo ${m.text}`, n: m.n }));
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    calls,
    cancelled,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

export type EchoClient = grpc.Client & {
  Unary(m: Partial<Msg>, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, r: Msg) => void): grpc.ClientUnaryCall;
  ServerStream(m: Partial<Msg>, md?: grpc.Metadata, o?: grpc.CallOptions): grpc.ClientReadableStream<Msg>;
  ClientStream(md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, r: Msg) => void): grpc.ClientWritableStream<Msg>;
  Bidi(md?: grpc.Metadata, o?: grpc.CallOptions): grpc.ClientDuplexStream<Msg, Msg>;
};

/** A client that dials `127.0.0.1:<port>` (an agent's outbound port) with the service name as `:authority`. */
export function echoClient(port: number, authority: string): EchoClient {
  return new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.default_authority": authority }) as unknown as EchoClient;
}

/** One unary call; resolves with the answer or the gRPC error (status, details, metadata). */
export function unary(client: EchoClient, m: Partial<Msg>, opts: grpc.CallOptions = {}): Promise<{ res: Msg | null; err: grpc.ServiceError | null }> {
  return new Promise((resolve) => {
    client.Unary(m, new grpc.Metadata(), opts, (err, res) => resolve({ res: err ? null : res, err }));
  });
}

export { grpc };

/**
 * The gRPC benchmark upstream: a @grpc/grpc-js server with one unary method, /bench.Bench/Echo, that answers any
 * request with 1 KB (raw bytes, no protobuf: the serializers are the identity, so the payload costs the same on every
 * path). Prints {"msg":"grpc upstream listening","port":n}.
 */
import * as grpc from "@grpc/grpc-js";

export const ECHO_PATH = "/bench.Bench/Echo";
const same = (b: Buffer) => b;
export const benchService: grpc.ServiceDefinition = {
  Echo: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};

if (process.argv[1]?.endsWith("grpc-upstream.ts")) {
  const reply = Buffer.alloc(1024, "x");
  const server = new grpc.Server({ "grpc.max_concurrent_streams": 1000 });
  server.addService(benchService, { Echo: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, reply) });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    console.log(JSON.stringify({ msg: "grpc upstream listening", port }));
  });
  process.on("SIGTERM", () => process.exit(0));
}

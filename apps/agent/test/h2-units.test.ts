/** HTTP/2 and gRPC building blocks: the preface sniff and the gRPC helpers (pure functions). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TrellisError } from "@trellis/protocol";
import { RetryRuntime } from "../src/policy/retry-policy.ts";
import { H2_PREFACE, sniffProtocol } from "../src/proxy/front.ts";
import { encodeGrpcMessage, grpcRequestInfo, grpcStatusIn, grpcStatusOfError, isGrpcFailure, parseGrpcTimeout } from "../src/proxy/grpc.ts";

test("protocol sniff: the whole HTTP/2 preface is h2, a byte off is HTTP/1.1, a prefix waits for more", () => {
  assert.equal(sniffProtocol(H2_PREFACE), "h2");
  assert.equal(sniffProtocol(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])])), "h2");
  for (let n = 1; n < H2_PREFACE.length; n++) assert.equal(sniffProtocol(H2_PREFACE.subarray(0, n)), null, `prefix of ${n}`);
  assert.equal(sniffProtocol(Buffer.alloc(0)), null);
  for (const h1 of ["GET / HTTP/1.1\r\n", "POST /x HTTP/1.1", "PRI * HTTP/2.0\r\nHost: x\r\n\r\n", "PUT", "\x16\x03\x01"]) {
    assert.equal(sniffProtocol(Buffer.from(h1, "latin1")), "h1", JSON.stringify(h1));
  }
});

test("grpc-timeout: every unit, malformed values ignored", () => {
  assert.equal(parseGrpcTimeout("1H"), 3_600_000);
  assert.equal(parseGrpcTimeout("2M"), 120_000);
  assert.equal(parseGrpcTimeout("3S"), 3_000);
  assert.equal(parseGrpcTimeout("250m"), 250);
  assert.equal(parseGrpcTimeout("5000u"), 5);
  assert.equal(parseGrpcTimeout("7000000n"), 7);
  for (const bad of ["", "10", "m", "123456789m", "-1S", "1.5S", "10x"]) assert.equal(parseGrpcTimeout(bad), null, bad);
  assert.deepEqual(grpcRequestInfo(["Content-Type", "application/grpc+proto", "grpc-timeout", "99m"]), { grpc: true, timeoutMs: 99 });
  assert.deepEqual(grpcRequestInfo(["content-type", "application/json"]), { grpc: false, timeoutMs: null });
});

test("gRPC statuses: proxy errors map to the codes a gRPC client expects; failures are the server-side codes", () => {
  const e = (kind: string, status: number) => new TrellisError("X", kind, status, "m");
  assert.equal(grpcStatusOfError(e("unknown-service", 503)), 14);
  assert.equal(grpcStatusOfError(e("upstream-connect-refused", 502)), 14);
  assert.equal(grpcStatusOfError(e("timeout", 504)), 4);
  assert.equal(grpcStatusOfError(e("per-try-timeout", 504)), 4);
  assert.equal(grpcStatusOfError(e("rbac-denied", 403)), 7);
  assert.equal(grpcStatusOfError(e("circuit-open", 503)), 14);
  assert.equal(grpcStatusOfError(e("bad-request", 400)), 13);
  for (const code of [2, 4, 12, 13, 14, 15]) assert.ok(isGrpcFailure(code), `code ${code}`);
  for (const code of [0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 16]) assert.ok(!isGrpcFailure(code), `code ${code}`);
  assert.equal(grpcStatusIn(["content-type", "application/grpc", "Grpc-Status", "14"]), 14);
  assert.equal(grpcStatusIn(["content-type", "application/grpc"]), -1);
});

test("grpc-message is percent-encoded: printable ASCII stays, '%' and UTF-8 are escaped", () => {
  assert.equal(encodeGrpcMessage("timeout: 100% ✓"), "timeout: 100%25 %E2%9C%93");
  assert.equal(decodeURIComponent(encodeGrpcMessage("ünï\ncode")), "ünï\ncode");
});

test("gRPC retry classes: each names its status; HTTP classes retry no gRPC status", () => {
  const policy = (retryOn: string[]) =>
    new RetryRuntime({ attempts: 1, perTryTimeoutMs: 0, retryOn, nonIdempotent: false, budget: { ratio: 0.2, minRetriesPerSecond: 10 } } as never);
  const all = policy(["cancelled", "deadline-exceeded", "resource-exhausted", "internal", "unavailable"]);
  assert.deepEqual(
    Array.from({ length: 17 }, (_, c) => c).filter((c) => all.grpcRetriable(c)),
    [1, 4, 8, 13, 14],
  );
  const onlyUnavailable = policy(["unavailable"]);
  assert.ok(onlyUnavailable.grpcRetriable(14));
  assert.ok(!onlyUnavailable.grpcRetriable(8));
  const http = policy(["5xx", "gateway-error", "connect-failure", "reset", "retriable-4xx"]);
  for (let c = 0; c <= 16; c++) assert.ok(!http.grpcRetriable(c), `code ${c}`);
});

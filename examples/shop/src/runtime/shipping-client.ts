/**
 * cart's gRPC client for shipping: a @grpc/grpc-js client that dials cart's own agent's outbound port with
 * `:authority: shipping` (HTTP/2 with prior knowledge), as an HTTP app addresses its agent by Host. It follows the
 * agent's port when the launcher re-points the app, and carries the trace headers of the request being served as
 * metadata. Every call has a deadline (grpc-timeout), which the agents honour and propagate.
 */
import * as grpc from "@grpc/grpc-js";
import { type QuoteReply, type QuoteRequest, Shipping } from "../services/shipping.ts";
import { requestContext } from "./http.ts";
import type { MeshClient } from "./mesh-client.ts";

export const QUOTE_DEADLINE_MS = 2_000;

/** A failed gRPC call, with its status (the agent's `x-trellis-error` reason, if it made the failure). */
export class GrpcCallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly proxyError: string | undefined,
  ) {
    super(message);
    this.name = "GrpcCallError";
  }
}

export class ShippingClient {
  private client: grpc.Client | undefined;
  private address = "";

  constructor(
    private readonly mesh: MeshClient,
    private readonly deadlineMs = QUOTE_DEADLINE_MS,
  ) {}

  async quote(req: QuoteRequest): Promise<QuoteReply> {
    const client = await this.clientFor();
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(requestContext.getStore()?.trace ?? {})) metadata.set(k, v);
    return new Promise((resolve, reject) => {
      const call = client as unknown as {
        Quote(r: QuoteRequest, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: QuoteReply) => void): void;
      };
      call.Quote(req, metadata, { deadline: Date.now() + this.deadlineMs }, (err, reply) => {
        if (!err && reply) return resolve(reply);
        const e = err ?? ({ code: grpc.status.INTERNAL, details: "empty reply", metadata: new grpc.Metadata() } as grpc.ServiceError);
        const reason = e.metadata?.get("x-trellis-error")[0];
        reject(
          new GrpcCallError(e.code, `shipping: ${grpc.status[e.code] ?? e.code}: ${e.details}`, reason === undefined ? undefined : String(reason)),
        );
      });
    });
  }

  /** The grpc-js client for the agent's current outbound port (a new one when the agent was restarted elsewhere). */
  private async clientFor(): Promise<grpc.Client> {
    const { address, authority } = await this.mesh.grpcTarget("shipping");
    if (this.client && this.address === address) return this.client;
    this.client?.close();
    this.address = address;
    this.client = new Shipping(address, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
    return this.client;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}

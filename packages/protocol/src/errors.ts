/**
 * One error base class for the whole mesh. `code` is a stable string naming the layer that raised it
 * (`TRELLIS_<LAYER>_<WHAT>`), and `proxyError` is the value of the `x-trellis-error` header when it reaches a client.
 */
export class TrellisError extends Error {
  readonly code: string;
  readonly status: number;
  readonly proxyError: string;
  constructor(code: string, proxyError: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TrellisError";
    this.code = code;
    this.status = status;
    this.proxyError = proxyError;
  }
}

export const PROXY_ERROR_HEADER = "x-trellis-error";

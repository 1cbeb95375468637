/**
 * Failures the injector itself reports, as the protocol's `TrellisError` with stable codes (`TRELLIS_INJECTOR_<WHAT>`).
 * The API server shows a webhook's HTTP error to whoever created the pod, so the message says what to fix.
 */
import { TrellisError } from "@trellis/protocol";

export { TrellisError };

export const InjectorErrorCode = {
  config: "TRELLIS_INJECTOR_CONFIG",
  badReview: "TRELLIS_INJECTOR_BAD_REVIEW",
  bodyTooLarge: "TRELLIS_INJECTOR_BODY_TOO_LARGE",
  notFound: "TRELLIS_INJECTOR_NOT_FOUND",
  method: "TRELLIS_INJECTOR_METHOD",
} as const;

const C = InjectorErrorCode;

export const injectorErrors = {
  config: (what: string) => new TrellisError(C.config, "injector-config", 500, `injector configuration: ${what}`),
  badReview: (what: string) => new TrellisError(C.badReview, "bad-admission-review", 400, `not an admission.k8s.io/v1 AdmissionReview: ${what}`),
  bodyTooLarge: (limit: number) => new TrellisError(C.bodyTooLarge, "body-too-large", 413, `request body over ${limit} bytes`),
  notFound: (path: string) => new TrellisError(C.notFound, "not-found", 404, `no such endpoint: ${path} (the webhook path is /mutate)`),
  method: (method: string) => new TrellisError(C.method, "method-not-allowed", 405, `${method} not allowed (POST an AdmissionReview)`),
};

/**
 * AdmissionReview (admission.k8s.io/v1) in → AdmissionReview out, as the API server expects from a mutating webhook:
 * the request's uid echoed, `allowed: true` (the webhook never blocks a pod: failurePolicy decides what happens when
 * it is unreachable), and the patch base64-encoded with patchType JSONPatch when there is one.
 */
import type { IPod } from "kubernetes-models/v1";
import type { InjectorConfig } from "./config.ts";
import { injectorErrors } from "./errors.ts";
import { type InjectResult, inject } from "./inject.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  name?: string;
  dryRun?: boolean;
  object?: unknown;
}

export interface ReviewOutcome {
  review: { apiVersion: string; kind: "AdmissionReview"; response: Record<string, unknown> };
  result: InjectResult;
  request: { uid: string; namespace?: string; operation?: string; dryRun: boolean };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function requestOf(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw injectorErrors.badReview("the body is not a JSON object");
  if (body.apiVersion !== ADMISSION_API_VERSION) throw injectorErrors.badReview(`apiVersion is ${JSON.stringify(body.apiVersion)}`);
  if (body.kind !== "AdmissionReview") throw injectorErrors.badReview(`kind is ${JSON.stringify(body.kind)}`);
  const req = body.request;
  if (!isObject(req) || typeof req.uid !== "string" || req.uid === "") throw injectorErrors.badReview("request.uid is missing");
  return req as unknown as AdmissionRequest;
}

export function review(body: unknown, cfg: InjectorConfig): ReviewOutcome {
  const req = requestOf(body);
  // The webhook is registered for pod CREATE only; anything else is let through untouched rather than guessed at.
  const isPodCreate = req.kind?.kind === "Pod" && (req.kind.group ?? "") === "" && req.operation === "CREATE" && isObject(req.object);
  const result: InjectResult = isPodCreate ? inject(req.object as IPod, cfg) : { patch: [], skipped: "not a pod CREATE", warnings: [] };
  const response: Record<string, unknown> = { uid: req.uid, allowed: true };
  if (result.patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(result.patch)).toString("base64");
  }
  if (result.warnings.length > 0) response.warnings = result.warnings;
  return {
    review: { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response },
    result,
    request: { uid: req.uid, namespace: req.namespace, operation: req.operation, dryRun: req.dryRun === true },
  };
}

/**
 * payments: charges a card. Two versions share this code and differ in behaviour, so a canary is worth watching:
 * v1 answers in a few ms and never fails; v2 (the "new processor integration") adds 30–60 ms and returns 503 on
 * about 4% of charges.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { HttpError, obj, Router } from "../runtime/http.ts";

export interface PaymentProfile {
  /** Processing time, uniformly drawn from [min, max] ms. */
  latencyMs: [number, number];
  /** Probability that a charge fails with 503 (processor unavailable). */
  failureRate: number;
}

export const PROFILES: Record<string, PaymentProfile> = {
  v1: { latencyMs: [2, 6], failureRate: 0 },
  v2: { latencyMs: [35, 65], failureRate: 0.04 },
};

export function profileFor(version: string): PaymentProfile {
  return PROFILES[version] ?? PROFILES.v1;
}

/** Luhn checksum, as card numbers carry. */
export function luhnValid(number: string): boolean {
  const digits = number.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export interface ChargeRequest {
  amountCents: number;
  currency: string;
  card: string;
  idempotencyKey?: string;
}

export type ChargeOutcome =
  | { status: "approved"; paymentId: string; amountCents: number; currency: string; processedBy: string }
  | { status: "declined"; reason: string }
  | { status: "unavailable"; reason: string };

/** Cards that always decline, like a test processor's magic numbers. */
export const DECLINED_CARD = "4000000000000002";
export const LIMIT_CENTS = 500_000;

export class PaymentProcessor {
  private readonly done = new Map<string, ChargeOutcome>();
  constructor(
    readonly version: string,
    readonly profile: PaymentProfile = profileFor(version),
    private readonly rng: () => number = Math.random,
  ) {}

  /** Decides a charge (without the simulated processing time). Approved results are idempotent per key. */
  decide(req: ChargeRequest): ChargeOutcome {
    if (req.idempotencyKey) {
      const prior = this.done.get(req.idempotencyKey);
      if (prior) return prior;
    }
    let outcome: ChargeOutcome;
    if (this.rng() < this.profile.failureRate) outcome = { status: "unavailable", reason: "processor timeout" };
    else if (!luhnValid(req.card)) outcome = { status: "declined", reason: "invalid card number" };
    else if (req.card.replace(/\D/g, "") === DECLINED_CARD) outcome = { status: "declined", reason: "card declined" };
    else if (req.amountCents > LIMIT_CENTS) outcome = { status: "declined", reason: "over the card limit" };
    else
      outcome = {
        status: "approved",
        paymentId: `pay_${this.version}_${randomUUID().slice(0, 12)}`,
        amountCents: req.amountCents,
        currency: req.currency,
        processedBy: this.version,
      };
    if (req.idempotencyKey && outcome.status !== "unavailable") {
      this.done.set(req.idempotencyKey, outcome);
      if (this.done.size > 10_000) this.done.delete(this.done.keys().next().value as string);
    }
    return outcome;
  }

  processingTimeMs(): number {
    const [lo, hi] = this.profile.latencyMs;
    return lo + this.rng() * (hi - lo);
  }
}

export function parseCharge(body: unknown): ChargeRequest {
  const b = obj(body);
  if (!Number.isInteger(b.amountCents) || (b.amountCents as number) <= 0) throw new HttpError(400, "amountCents must be a positive integer");
  if (typeof b.card !== "string") throw new HttpError(400, "card required");
  const currency = typeof b.currency === "string" && /^[A-Z]{3}$/.test(b.currency) ? b.currency : "EUR";
  const idempotencyKey = typeof b.idempotencyKey === "string" ? b.idempotencyKey.slice(0, 128) : undefined;
  return { amountCents: b.amountCents as number, currency, card: b.card, idempotencyKey };
}

export function paymentsRouter(processor: PaymentProcessor): Router {
  return new Router()
    .get("/healthz", () => ({ json: { ok: true, version: processor.version } }))
    .post("/charge", async ({ body }) => {
      const req = parseCharge(body);
      await delay(processor.processingTimeMs());
      const outcome = processor.decide(req);
      if (outcome.status === "approved") return { status: 201, json: outcome };
      if (outcome.status === "declined") return { status: 402, json: { error: outcome.reason, status: "declined" } };
      return { status: 503, json: { error: outcome.reason, status: "unavailable", version: processor.version }, headers: { "retry-after": "1" } };
    });
}

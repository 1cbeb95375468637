/**
 * A canary rollout's parameters (Flagger's `analysis` block, in the console's terms) and their defaults. Validated
 * with zod where an operator gives them (tRPC `canary.start`) and again when a stored rollout is read.
 */
import { z } from "zod";

export const DEFAULT_STEPS = [5, 10, 25, 50, 100] as const;

export const canarySettingsSchema = z
  .object({
    /** Canary weights in percent, ascending; reaching 100 (or passing the last step) is the promotion. */
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .max(20)
      .default([...DEFAULT_STEPS]),
    /** How long each step's analysis window lasts. */
    intervalSeconds: z.number().int().min(5).max(3600).default(60),
    /** The canary's success rate must be at least this (percent). */
    minSuccessRatePct: z.number().min(0).max(100).default(99),
    /** The canary's p99 latency must be at most this. */
    maxP99Ms: z.number().positive().max(600_000).default(500),
    /** Fewer canary requests than this in a window: no verdict (insufficient data), the step waits. */
    minRequests: z.number().int().min(1).max(1_000_000).default(20),
    /** Failed checks (over the whole rollout) that roll the canary back. */
    failureThreshold: z.number().int().min(1).max(100).default(2),
  })
  .superRefine((s, ctx) => {
    for (let i = 1; i < s.steps.length; i++)
      if (s.steps[i] <= s.steps[i - 1]) ctx.addIssue({ code: "custom", path: ["steps", i], message: "steps must ascend" });
    if (s.steps[0] >= 100) ctx.addIssue({ code: "custom", path: ["steps", 0], message: "the first step must be below 100%" });
  });

export type CanarySettings = z.output<typeof canarySettingsSchema>;
export type CanarySettingsInput = z.input<typeof canarySettingsSchema>;

export const DEFAULT_SETTINGS: CanarySettings = canarySettingsSchema.parse({});

"use client";
/** Retries: how many, on which failures, each attempt's time limit, and the budget that bounds them. */
import { RETRY_ON } from "@trellis/protocol";
import { type RetriesModel, retriesForm } from "../../../shared/policy-forms/resilience.ts";
import { FieldError, NumberField, Toggle } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

export function RetriesForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<RetriesModel>
      {...props}
      title="Retries"
      help="Failed calls without a body are tried again (idempotent methods only, unless allowed), within a budget of recent traffic."
      testId="retries-form"
      def={retriesForm}
      body={({ model, set, errors, testId }) => (
        <>
          <Toggle
            label="Retry failed calls"
            checked={model.enabled}
            testId={`${testId}-enabled`}
            onChange={(enabled) => set({ ...model, enabled })}
          />
          {model.enabled && (
            <>
              <div className="field-row">
                <NumberField
                  label="Retries"
                  value={model.attempts}
                  error={errors["retries.attempts"]}
                  testId={`${testId}-attempts`}
                  onChange={(v) => set({ ...model, attempts: v })}
                />
                <NumberField
                  label="Per-try timeout"
                  unit="ms"
                  placeholder="none"
                  value={model.perTryTimeoutMs}
                  error={errors["retries.perTryTimeoutMs"]}
                  testId={`${testId}-perTryTimeoutMs`}
                  onChange={(v) => set({ ...model, perTryTimeoutMs: v })}
                />
              </div>
              <fieldset className="checks">
                <legend className="field-label">Retry on</legend>
                {RETRY_ON.map((c) => (
                  <Toggle
                    key={c}
                    label={c}
                    checked={model.retryOn.includes(c)}
                    testId={`${testId}-on-${c}`}
                    onChange={(on) => set({ ...model, retryOn: on ? [...model.retryOn, c] : model.retryOn.filter((x) => x !== c) })}
                  />
                ))}
                <FieldError error={errors["retries.retryOn"]} testId={`${testId}-retryOn`} />
              </fieldset>
              <Toggle
                label="Also retry non-idempotent methods (POST, PATCH)"
                checked={model.nonIdempotent}
                testId={`${testId}-nonIdempotent`}
                onChange={(nonIdempotent) => set({ ...model, nonIdempotent })}
              />
              <div className="field-row">
                <NumberField
                  label="Budget: ratio of recent calls"
                  placeholder="0.2"
                  value={model.budgetRatio}
                  error={errors["retries.budget.ratio"]}
                  testId={`${testId}-budgetRatio`}
                  onChange={(v) => set({ ...model, budgetRatio: v })}
                />
                <NumberField
                  label="Budget: minimum per second"
                  placeholder="10"
                  value={model.budgetMinRetriesPerSecond}
                  error={errors["retries.budget.minRetriesPerSecond"]}
                  testId={`${testId}-budgetMin`}
                  onChange={(v) => set({ ...model, budgetMinRetriesPerSecond: v })}
                />
              </div>
            </>
          )}
          <FieldError error={errors.retries} testId={`${testId}-retries`} />
        </>
      )}
    />
  );
}

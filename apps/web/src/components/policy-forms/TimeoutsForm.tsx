"use client";
/** Timeouts of calls to a service: time to the response head, and the idle bound of streams. */
import { type TimeoutsModel, timeoutsForm } from "../../../shared/policy-forms/resilience.ts";
import { NumberField } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

export function TimeoutsForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<TimeoutsModel>
      {...props}
      title="Timeouts"
      help="Time to the response head (blank: 15 s; 0: none) and how long a stream may stay silent (blank: no bound of the mesh's own)."
      testId="timeouts-form"
      def={timeoutsForm}
      body={({ model, set, errors, testId }) => (
        <div className="field-row">
          <NumberField
            label="Request timeout"
            unit="ms"
            value={model.timeoutMs}
            error={errors.timeoutMs}
            testId={`${testId}-timeoutMs`}
            onChange={(v) => set({ ...model, timeoutMs: v })}
          />
          <NumberField
            label="Idle timeout"
            unit="ms"
            value={model.idleTimeoutMs}
            error={errors.idleTimeoutMs}
            testId={`${testId}-idleTimeoutMs`}
            onChange={(v) => set({ ...model, idleTimeoutMs: v })}
          />
        </div>
      )}
    />
  );
}

"use client";
/** Fault injection: delay and/or abort a percentage of the calls to this service (resilience testing). */
import { type FaultModel, faultForm } from "../../../shared/policy-forms/resilience.ts";
import { NumberField, Toggle } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

export function FaultForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<FaultModel>
      {...props}
      title="Fault injection"
      help="Callers' agents hold or fail this share of the calls (aborts carry x-trellis-error: fault-injected)."
      testId="fault-form"
      def={faultForm}
      body={({ model, set, errors, testId }) => (
        <>
          <Toggle
            label="Delay"
            checked={model.delayEnabled}
            testId={`${testId}-delay`}
            onChange={(delayEnabled) => set({ ...model, delayEnabled })}
          />
          {model.delayEnabled && (
            <div className="field-row">
              <NumberField
                label="Delay share"
                unit="%"
                value={model.delayPercent}
                error={errors["faultInjection.delay.percent"]}
                testId={`${testId}-delayPercent`}
                onChange={(v) => set({ ...model, delayPercent: v })}
              />
              <NumberField
                label="Delay"
                unit="ms"
                value={model.delayMs}
                error={errors["faultInjection.delay.ms"]}
                testId={`${testId}-delayMs`}
                onChange={(v) => set({ ...model, delayMs: v })}
              />
            </div>
          )}
          <Toggle
            label="Abort"
            checked={model.abortEnabled}
            testId={`${testId}-abort`}
            onChange={(abortEnabled) => set({ ...model, abortEnabled })}
          />
          {model.abortEnabled && (
            <div className="field-row">
              <NumberField
                label="Abort share"
                unit="%"
                value={model.abortPercent}
                error={errors["faultInjection.abort.percent"]}
                testId={`${testId}-abortPercent`}
                onChange={(v) => set({ ...model, abortPercent: v })}
              />
              <NumberField
                label="Status"
                value={model.abortStatus}
                error={errors["faultInjection.abort.status"]}
                testId={`${testId}-abortStatus`}
                onChange={(v) => set({ ...model, abortStatus: v })}
              />
            </div>
          )}
        </>
      )}
    />
  );
}

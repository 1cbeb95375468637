"use client";
/** Outlier detection: endpoints that keep failing are ejected for a growing time. */
import { OUTLIER_FIELDS, type OutlierField, type OutlierModel, outlierForm } from "../../../shared/policy-forms/resilience.ts";
import { NumberField, Toggle } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

const LABELS: Record<OutlierField, { label: string; unit?: string; placeholder: string }> = {
  consecutive5xx: { label: "Consecutive 5xx", placeholder: "5" },
  consecutiveGatewayErrors: { label: "Consecutive gateway errors", placeholder: "0 (off)" },
  intervalMs: { label: "Interval", unit: "ms", placeholder: "10000" },
  baseEjectionTimeMs: { label: "Base ejection time", unit: "ms", placeholder: "30000" },
  maxEjectionTimeMs: { label: "Max ejection time", unit: "ms", placeholder: "300000" },
  maxEjectionPercent: { label: "Max ejected", unit: "%", placeholder: "50" },
};

export function OutlierForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<OutlierModel>
      {...props}
      title="Outlier detection"
      help="An endpoint that fails this many times in a row is taken out of balancing for a while (longer each time)."
      testId="outlier-form"
      def={outlierForm}
      body={({ model, set, errors, testId }) => (
        <>
          <Toggle
            label="Eject failing endpoints"
            checked={model.enabled}
            testId={`${testId}-enabled`}
            onChange={(enabled) => set({ ...model, enabled })}
          />
          {model.enabled && (
            <div className="field-row wrap">
              {OUTLIER_FIELDS.map((f) => (
                <NumberField
                  key={f}
                  label={LABELS[f].label}
                  unit={LABELS[f].unit}
                  placeholder={LABELS[f].placeholder}
                  value={model[f]}
                  error={errors[`outlierDetection.${f}`]}
                  testId={`${testId}-${f}`}
                  onChange={(v) => set({ ...model, [f]: v })}
                />
              ))}
            </div>
          )}
        </>
      )}
    />
  );
}

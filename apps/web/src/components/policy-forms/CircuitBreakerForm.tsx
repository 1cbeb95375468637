"use client";
/** Circuit breaking: limits per destination beyond which calls fail fast with `circuit-open`. */
import { type CircuitBreakerModel, circuitBreakerForm } from "../../../shared/policy-forms/resilience.ts";
import { NumberField, Toggle } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

export function CircuitBreakerForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<CircuitBreakerModel>
      {...props}
      title="Circuit breaking"
      help="Beyond these limits (per calling agent) calls fail at once with 503 circuit-open instead of queueing."
      testId="breaker-form"
      def={circuitBreakerForm}
      body={({ model, set, errors, testId }) => (
        <>
          <Toggle
            label="Limit calls to this service"
            checked={model.enabled}
            testId={`${testId}-enabled`}
            onChange={(enabled) => set({ ...model, enabled })}
          />
          {model.enabled && (
            <div className="field-row">
              <NumberField
                label="Max requests in flight"
                placeholder="1024"
                value={model.maxRequests}
                error={errors["circuitBreaker.maxRequests"]}
                testId={`${testId}-maxRequests`}
                onChange={(v) => set({ ...model, maxRequests: v })}
              />
              <NumberField
                label="Max connections per endpoint"
                placeholder="1024"
                value={model.maxConnections}
                error={errors["circuitBreaker.maxConnections"]}
                testId={`${testId}-maxConnections`}
                onChange={(v) => set({ ...model, maxConnections: v })}
              />
              <NumberField
                label="Max pending per endpoint"
                placeholder="1024"
                value={model.maxPendingRequests}
                error={errors["circuitBreaker.maxPendingRequests"]}
                testId={`${testId}-maxPendingRequests`}
                onChange={(v) => set({ ...model, maxPendingRequests: v })}
              />
            </div>
          )}
        </>
      )}
    />
  );
}

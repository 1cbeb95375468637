"use client";
/** Load balancer: how a caller's agent picks an endpoint inside the chosen version. */
import { type LoadBalancerModel, loadBalancerForm } from "../../../shared/policy-forms/resilience.ts";
import { SelectField } from "./fields.tsx";
import { PolicyFormCard, type PolicyFormProps } from "./PolicyFormCard.tsx";

const OPTIONS = [
  { value: "", label: "default (power of two choices)" },
  { value: "p2c", label: "power of two choices (least loaded, EWMA latency)" },
  { value: "round-robin", label: "round robin" },
  { value: "least-request", label: "least request" },
] as const;

export function LoadBalancerForm(props: PolicyFormProps) {
  return (
    <PolicyFormCard<LoadBalancerModel>
      {...props}
      title="Load balancer"
      help="Which endpoint of the chosen version gets a call; ejected endpoints are skipped."
      testId="lb-form"
      def={loadBalancerForm}
      body={({ model, set, errors, testId }) => (
        <SelectField<LoadBalancerModel["loadBalancer"]>
          label="Algorithm"
          value={model.loadBalancer}
          options={OPTIONS}
          error={errors.loadBalancer}
          testId={`${testId}-algorithm`}
          onChange={(loadBalancer) => set({ loadBalancer })}
        />
      )}
    />
  );
}

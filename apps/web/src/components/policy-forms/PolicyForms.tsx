"use client";
/** Every policy form of a service, each its own card (and its own file), fed by the traffic panel's query. */
import { memo } from "react";
import { CircuitBreakerForm } from "./CircuitBreakerForm.tsx";
import { FaultForm } from "./FaultForm.tsx";
import { LoadBalancerForm } from "./LoadBalancerForm.tsx";
import { OutlierForm } from "./OutlierForm.tsx";
import type { PolicyFormProps } from "./PolicyFormCard.tsx";
import { RetriesForm } from "./RetriesForm.tsx";
import { RoutesForm } from "./RoutesForm.tsx";
import { TimeoutsForm } from "./TimeoutsForm.tsx";

/**
 * The traffic panel polls its query twice a second and every answer is a new object: the forms re-render only when
 * the policy or the versions really changed (by value).
 */
const sameValue = (a: PolicyFormProps, b: PolicyFormProps): boolean =>
  a.service === b.service && a.versions.join(",") === b.versions.join(",") && JSON.stringify(a.policy) === JSON.stringify(b.policy);

export const PolicyForms = memo(function PolicyForms(props: PolicyFormProps) {
  return (
    <div className="policy-forms" data-testid="policy-forms">
      <RoutesForm {...props} />
      <div className="grid-2">
        <TimeoutsForm {...props} />
        <RetriesForm {...props} />
        <CircuitBreakerForm {...props} />
        <OutlierForm {...props} />
        <FaultForm {...props} />
        <LoadBalancerForm {...props} />
      </div>
    </div>
  );
}, sameValue);

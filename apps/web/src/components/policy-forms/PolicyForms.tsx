"use client";
/** Every policy form of a service, each its own card (and its own file), fed by the traffic panel's query. */
import { CircuitBreakerForm } from "./CircuitBreakerForm.tsx";
import { FaultForm } from "./FaultForm.tsx";
import { LoadBalancerForm } from "./LoadBalancerForm.tsx";
import { OutlierForm } from "./OutlierForm.tsx";
import type { PolicyFormProps } from "./PolicyFormCard.tsx";
import { RetriesForm } from "./RetriesForm.tsx";
import { RoutesForm } from "./RoutesForm.tsx";
import { TimeoutsForm } from "./TimeoutsForm.tsx";

export function PolicyForms(props: PolicyFormProps) {
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
}

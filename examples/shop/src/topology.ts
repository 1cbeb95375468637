/** Which instances the demo shop runs. Instance ids are stable so each agent keeps its state dir across restarts. */
export interface InstanceSpec {
  id: string;
  service: string;
  version: string;
}

export const SHOP_INSTANCES: readonly InstanceSpec[] = [
  { id: "web-v1-1", service: "web", version: "v1" },
  { id: "catalog-v1-1", service: "catalog", version: "v1" },
  { id: "catalog-v1-2", service: "catalog", version: "v1" },
  { id: "cart-v1-1", service: "cart", version: "v1" },
  { id: "inventory-v1-1", service: "inventory", version: "v1" },
  { id: "payments-v1-1", service: "payments", version: "v1" },
  { id: "payments-v2-1", service: "payments", version: "v2" },
  { id: "recommendations-v1-1", service: "recommendations", version: "v1" },
  { id: "reviews-v1-1", service: "reviews", version: "v1" },
  { id: "shipping-v1-1", service: "shipping", version: "v1" },
];

/** Who calls whom (for the README and tests; the services' code is the truth). */
export const CALL_GRAPH: Readonly<Record<string, readonly string[]>> = {
  ingress: ["web"],
  web: ["catalog", "recommendations", "reviews", "cart", "payments"],
  catalog: ["inventory"],
  cart: ["catalog", "inventory", "shipping"], // shipping over gRPC
  recommendations: ["catalog"],
  inventory: [],
  payments: [],
  reviews: [],
  shipping: [],
};

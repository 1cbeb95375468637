/**
 * Today's AgentHub as the road's ConfigPublisher. Each publish hands the hub the sampling policy as stored now, then
 * runs a push round. (The split control plane's publisher reads the policy itself at every round and replaces this.)
 */
import type { AgentHub } from "../agent-hub.ts";
import type { Repositories } from "../repositories/index.ts";
import type { ConfigPublisher } from "./road.ts";

export function hubPublisher(hub: AgentHub, repos: Repositories): ConfigPublisher {
  return {
    get currentVersion() {
      return hub.currentVersion;
    },
    async publish() {
      hub.setTelemetryPolicy(await repos.telemetryPolicy.get());
      return hub.requestPush();
    },
  };
}

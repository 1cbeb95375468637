import type { Db } from "../db.ts";
import { InstanceRepository } from "./instances.ts";
import { MeshStateRepository } from "./mesh-state.ts";
import { ServiceRepository } from "./services.ts";
import { JoinTokenRepository, PolicyRepository, UserRepository } from "./security.ts";

export interface Repositories {
  services: ServiceRepository;
  instances: InstanceRepository;
  meshState: MeshStateRepository;
  policies: PolicyRepository;
  users: UserRepository;
  joinTokens: JoinTokenRepository;
}

export function createRepositories(db: Db): Repositories {
  const services = new ServiceRepository(db);
  return { services, instances: new InstanceRepository(db, services), meshState: new MeshStateRepository(db),
    policies: new PolicyRepository(db),
    users: new UserRepository(db),
    joinTokens: new JoinTokenRepository(db),
  };
}

export type { InstanceRow, ServiceDetail, ServiceListItem } from "./services.ts";
export type { EndpointRow, SyncState } from "./instances.ts";
export type { AuthzRuleRow, JoinTokenRow, Role, SessionUser } from "./security.ts";

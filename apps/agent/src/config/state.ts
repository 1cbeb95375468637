/**
 * The applied configuration: a "latest value" cell. Candidates are validated (schema, service, version order) before
 * anything changes; applying compiles new routes and balancers and swaps them in one assignment, while the endpoint
 * registry keeps the connection pools of addresses that are still listed.
 */
import { formatIssues, type MeshSnapshot, meshSnapshotSchema } from "@trellis/protocol";
import type { EdgeRegistry } from "../telemetry/edges.ts";
import type { EndpointRegistry } from "../upstream/endpoints.ts";
import { compileRoutes, type RouteTable, type Self } from "./routes.ts";

export type Checked = { ok: true; snapshot: MeshSnapshot } | { ok: false; error: string };

export class ConfigState {
  snapshot: MeshSnapshot | null = null;
  routes: RouteTable | null = null;
  appliedAt: string | null = null;
  private readonly listeners: ((s: MeshSnapshot) => void)[] = [];

  constructor(
    readonly self: Self,
    private readonly endpoints: EndpointRegistry,
    private readonly edges: EdgeRegistry,
  ) {}

  get version(): number {
    return this.snapshot?.version ?? 0;
  }

  get ready(): boolean {
    return this.routes !== null;
  }

  onApplied(fn: (s: MeshSnapshot) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Validates a candidate. `frameVersion` is the version the snapshot frame announced (must match the snapshot's).
   * Same-version candidates are accepted (caller acks without re-applying); older ones are refused.
   */
  check(candidate: unknown, frameVersion?: number): Checked {
    const parsed = meshSnapshotSchema.safeParse(candidate);
    if (!parsed.success) return { ok: false, error: `invalid snapshot: ${formatIssues(parsed.error)}` };
    const snap = parsed.data;
    if (snap.service !== this.self.service)
      return { ok: false, error: `snapshot is for service "${snap.service}", this agent serves "${this.self.service}"` };
    if (frameVersion !== undefined && frameVersion !== snap.version)
      return { ok: false, error: `frame version ${frameVersion} does not match snapshot version ${snap.version}` };
    if (this.snapshot !== null && snap.version < this.snapshot.version)
      return { ok: false, error: `snapshot version ${snap.version} is older than the applied version ${this.snapshot.version}` };
    return { ok: true, snapshot: snap };
  }

  /** Swaps in a checked snapshot. Pools of addresses no longer listed are closed once idle. */
  apply(snapshot: MeshSnapshot): void {
    const routes = compileRoutes(snapshot, this.self, this.endpoints, this.edges, this.routes);
    this.routes = routes;
    this.snapshot = snapshot;
    this.appliedAt = new Date().toISOString();
    this.endpoints.retain(routes.addresses);
    for (const fn of this.listeners) fn(snapshot);
  }
}
